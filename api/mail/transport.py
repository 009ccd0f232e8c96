"""Where messages go, from `MAIL_URL`: an SMTP server, or `.eml` files in a folder."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from api.mail.compose import Outgoing


class DeliveryError(Exception):
    """A message was not accepted; `permanent` says whether trying again can help."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class Transport(Protocol):
    async def send(self, message: Outgoing) -> None: ...

    async def send_many(self, messages: list[Outgoing]) -> list[DeliveryError | None]:
        """Send each message; the outcome of each (None: accepted)."""
        ...


class FileTransport:
    """One `.eml` file per message (written atomically), for development."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    async def send_many(self, messages: list[Outgoing]) -> list[DeliveryError | None]:
        outcomes: list[DeliveryError | None] = []
        for message in messages:
            try:
                await self.send(message)
                outcomes.append(None)
            except DeliveryError as exc:
                outcomes.append(exc)
        return outcomes

    async def send(self, message: Outgoing) -> None:
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
    """SMTP through aiosmtplib: implicit TLS for `smtps://`, STARTTLS whenever offered."""

    def __init__(self, url: str, timeout: float = 30) -> None:
        parts = urlsplit(url)
        self.implicit_tls = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.implicit_tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.timeout = timeout

    def _client(self) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            username=self.username,
            password=self.password,
            use_tls=self.implicit_tls,
            start_tls=None if not self.implicit_tls else False,
            timeout=self.timeout,
        )

    async def send(self, message: Outgoing) -> None:
        [outcome] = await self.send_many([message])
        if outcome is not None:
            raise outcome

    async def send_many(self, messages: list[Outgoing]) -> list[DeliveryError | None]:
        """Send over one connection (STARTTLS when the server offers it). If the
        connection fails, the messages not yet accepted fail temporarily."""
        outcomes: list[DeliveryError | None] = []
        try:
            async with self._client() as smtp:
                for message in messages:
                    try:
                        outcomes.append(await _send(smtp, message))
                    except aiosmtplib.SMTPRecipientsRefused as exc:
                        reasons = "; ".join(f"{e.code} {e.message}" for e in exc.recipients)
                        permanent = all(500 <= e.code < 600 for e in exc.recipients)
                        outcomes.append(DeliveryError(reasons, permanent=permanent))
                    except aiosmtplib.SMTPServerDisconnected:
                        raise
                    except aiosmtplib.SMTPResponseException as exc:
                        outcomes.append(
                            DeliveryError(
                                f"{exc.code} {exc.message}", permanent=500 <= exc.code < 600
                            )
                        )
        except (aiosmtplib.SMTPException, OSError) as exc:
            failure = DeliveryError(f"SMTP server unreachable: {exc}", permanent=False)
            outcomes += [failure] * (len(messages) - len(outcomes))
        return outcomes


async def _send(smtp: aiosmtplib.SMTP, message: Outgoing) -> DeliveryError | None:
    options = []
    if message.utf8:
        if smtp.is_ehlo_or_helo_needed:
            await smtp.ehlo()
        if not smtp.supports_extension("smtputf8"):
            reason = "the SMTP server does not take non-ASCII addresses (no SMTPUTF8)"
            return DeliveryError(reason, permanent=True)
        options.append("SMTPUTF8")
    await smtp.sendmail(message.sender, message.recipients, message.data, mail_options=options)
    return None


def transport_from_url(url: str) -> Transport:
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileTransport(Path(unquote(parts.netloc + parts.path)))
    return SMTPTransport(url)
