"""Where messages go, from `MAIL_URL`: an SMTP server, or `.eml` files in a folder.

Transports are synchronous: they run in the render processes (see `render_and_send`),
where each process keeps its own SMTP connection open between messages, so neither the
SMTP client's work nor its socket writes land on the API's event loop.
"""

from __future__ import annotations

import os
import smtplib
import ssl
import uuid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from api.mail.compose import AccessNoticeMail, Invite, Outgoing, render_email


class DeliveryError(Exception):
    """A message was not accepted; `permanent` says whether trying again can help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent

    def __reduce__(self) -> tuple[object, ...]:  # crosses process boundaries
        return (_delivery_error, (self.reason, self.permanent))


def _delivery_error(reason: str, permanent: bool) -> DeliveryError:
    return DeliveryError(reason, permanent=permanent)


class Transport(Protocol):
    def send(self, message: Outgoing) -> None:
        """Deliver `message` or raise DeliveryError."""
        ...


class FileTransport:
    """One `.eml` file per message (written atomically), for development."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: Outgoing) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            name = f"{message.message_id.strip('<>').split('@')[0] or uuid.uuid4().hex}.eml"
            partial = self.folder / f".{name}.part"
            partial.write_bytes(message.data)
            os.replace(partial, self.folder / name)
        except OSError as exc:
            raise DeliveryError(
                f"cannot write to {self.folder}: {exc.strerror}", permanent=False
            ) from None


class SMTPTransport:
    """SMTP through smtplib: implicit TLS for `smtps://`, STARTTLS whenever offered. The
    connection stays open for the next message; a dropped one is opened again once."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        parts = urlsplit(url)
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()  # system CAs (SSL_CERT_FILE)
        smtp: smtplib.SMTP
        if self.implicit_tls:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if not self.implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: Outgoing) -> None:
        while True:
            reused = self._smtp is not None
            try:
                if self._smtp is None:
                    self._smtp = self._connect()
                self._send(self._smtp, message)
                return
            except smtplib.SMTPRecipientsRefused as exc:
                refusals = list(exc.recipients.values())
                reasons = "; ".join(f"{code} {_text(text)}" for code, text in refusals)
                permanent = all(500 <= code < 600 for code, _ in refusals)
                self._reset()
                raise DeliveryError(reasons, permanent=permanent) from None
            except smtplib.SMTPResponseException as exc:
                self._reset()
                reason = f"{exc.smtp_code} {_text(exc.smtp_error)}"
                raise DeliveryError(reason, permanent=500 <= exc.smtp_code < 600) from None
            except OSError as exc:  # smtplib's other errors are OSErrors too
                self.close()
                if not reused:  # a kept connection may have been dropped: one fresh try
                    raise DeliveryError(
                        f"SMTP server unreachable: {exc}", permanent=False
                    ) from None

    def _send(self, smtp: smtplib.SMTP, message: Outgoing) -> None:
        options = []
        if message.utf8:
            if not smtp.has_extn("smtputf8"):
                reason = "the SMTP server does not take non-ASCII addresses (no SMTPUTF8)"
                raise DeliveryError(reason, permanent=True)
            options.append("SMTPUTF8")
        smtp.sendmail(message.sender, message.recipients, message.data, mail_options=options)

    def _reset(self) -> None:
        """After a refused message, leave the connection ready for the next one."""
        if self._smtp is not None:
            try:
                self._smtp.rset()
            except (smtplib.SMTPException, OSError):
                self.close()

    def close(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            finally:
                self._smtp = None


def _text(value: bytes | str) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def transport_from_url(url: str) -> Transport:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileTransport(Path(unquote(parts.netloc + parts.path)))
    return SMTPTransport(url)


_transports: dict[str, Transport] = {}  # one a MAIL_URL in each process: connections stay


def render_and_send(
    mail: Invite | AccessNoticeMail,
    sender: str,
    message_id_domain: str,
    qr_scale: int,
    mail_url: str,
) -> DeliveryError | None:
    """One email, rendered whole and handed over; runs in a render process.
    The outcome: None if the server (or folder) took it; a message that cannot be built
    (an address no mail system can carry, say) fails for good, with the reason."""
    transport = _transports.get(mail_url)
    if transport is None:
        transport = _transports[mail_url] = transport_from_url(mail_url)
    try:
        outgoing = render_email(mail, sender, message_id_domain, qr_scale)
    except Exception as exc:  # this message can never be built: trying again cannot help
        return DeliveryError(f"the message cannot be built: {exc}", permanent=True)
    try:
        transport.send(outgoing)
    except DeliveryError as error:
        return error
    return None
