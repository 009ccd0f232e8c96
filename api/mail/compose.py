"""Build the service's emails, text and HTML parts, in the recipient's language:
invitations (first send, resend, reminder: the link and an inline QR) and access notices
(a partner gained access to a business). All wording lives in `api/templates`
(`words/<lang>.j2` and `mail/`).

`render_email` does all of it, down to the bytes SMTP carries, in a render process: the
QR and the MIME tree are the CPU-heavy part of sending.
"""

from __future__ import annotations

import email.policy
from datetime import datetime
from email.header import Header
from email.headerregistry import Address, BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr
from typing import Any

import msgspec

from api.qr import render
from api.templates import render_mail
from mobile_contract.models import mail_domain

QR_CID_DOMAIN = "invites.banqup"


class Invite(msgspec.Struct, kw_only=True):
    """What an invitation email says."""

    to: str
    client_name: str
    partner_name: str
    language: str
    message: str | None
    access_level: str
    url: str
    app_url: str
    expires_at: datetime
    replaces_earlier: bool
    reminder: bool = False


class AccessNoticeMail(msgspec.Struct, kw_only=True):
    """What an access notice says: a partner gained access to a business."""

    to: str
    language: str
    partner_name: str
    business_name: str
    access_level: str
    granted_by: str
    granted_at: datetime


class Outgoing(msgspec.Struct, frozen=True, kw_only=True):
    """A message as SMTP carries it: the envelope, and the bytes (CRLF lines, 7-bit bodies)."""

    sender: str
    recipients: list[str]
    message_id: str
    data: bytes
    utf8: bool  # an address is not ASCII: the server must offer SMTPUTF8


class _Subject(UnstructuredHeader, BaseHeader):
    """A subject with non-ASCII words, encoded whole (RFC 2047 words of at most 75
    characters, spaces inside them). The standard folding writes each such word as an
    encoded word of its own, and a reader drops the space between two adjacent ones:
    "désormais accès à" reads "désormaisaccèsà"."""

    def fold(self, *, policy: Any) -> str:
        text = str(self)
        if policy.utf8 or text.isascii():
            return str(super().fold(policy=policy))
        encoded = Header(text, "utf-8", header_name=self.name).encode(linesep=policy.linesep)
        return f"{self.name}: {encoded}{policy.linesep}"


_HEADERS = HeaderRegistry()
_HEADERS.map_to_type("subject", _Subject)

# Python's email package reads an RFC 2047 encoded word ("=?utf-8?b?...?=") in a header
# value it is given, and writes what it decodes to as it is: a name that carries one with
# an encoded line break would add headers, or a body, to the message. Names cannot hold
# control characters, so the encoded word is the one way in; a word joiner (invisible)
# after each "=" of "=?" keeps the text from being one, and the name reads as typed.
_ENCODED_WORD_START = "=?"
_BROKEN_START = "=\u2060?"


def header_text(text: str) -> str:
    """`text` (a name, a subject with names in it) as a header value that stays as it is."""
    return text.replace(_ENCODED_WORD_START, _BROKEN_START)


def _policy(*addresses: str) -> email.policy.EmailPolicy[EmailMessage]:
    """SMTP line endings and 7-bit bodies (quoted-printable or base64), so any server takes
    the message; UTF-8 headers only when an address needs them."""
    utf8 = not "".join(addresses).isascii()
    base = email.policy.SMTPUTF8 if utf8 else email.policy.SMTP
    return base.clone(cte_type="7bit", header_factory=_HEADERS)


def flatten(message: EmailMessage) -> Outgoing:
    sender = parseaddr(str(message["From"]))[1]
    recipients = [address for _, address in getaddresses(message.get_all("To", []))]
    policy = _policy(sender, *recipients)
    return Outgoing(
        sender=sender,
        recipients=recipients,
        message_id=str(message["Message-ID"] or ""),
        data=message.as_bytes(policy=policy),
        utf8=policy.utf8,
    )


def render_email(
    mail: Invite | AccessNoticeMail, sender: str, message_id_domain: str, qr_scale: int
) -> Outgoing:
    """The whole email, ready for SMTP; runs in a render process."""
    if isinstance(mail, AccessNoticeMail):
        return flatten(compose_access_notice(mail, sender, message_id_domain))
    png = render(mail.url, "png", qr_scale)
    return flatten(compose(mail, png, sender, message_id_domain))


def recipient(display_name: str, address: str) -> Address:
    """`address` as it travels: its domain in IDNA (ASCII), its local part as given (a
    non-ASCII one needs SMTPUTF8: see `_policy`)."""
    ascii_domain = mail_domain(address)
    if ascii_domain is None:
        raise ValueError("its domain is not a valid internationalised domain name")
    local_part = address.rpartition("@")[0]
    if _ENCODED_WORD_START in local_part:  # an address stored before the pattern said so
        raise ValueError('its local part holds "=?", the start of an encoded word')
    return Address(display_name=header_text(display_name), username=local_part, domain=ascii_domain)


def _message(
    template: str,
    language: str,
    words: dict[str, Any],
    sender: str,
    to: Address,
    kind: str,
    message_id_domain: str,
) -> EmailMessage:
    """A text and HTML message of `template` in `language`, from `sender` to `to`."""
    subject, text, html = render_mail(template, language, words)
    sender_name, sender_address = parseaddr(sender)
    message = EmailMessage(policy=_policy(sender_address, to.addr_spec))
    message["Subject"] = header_text(subject)
    message["From"] = Address(display_name=header_text(sender_name), addr_spec=sender_address)
    message["To"] = to
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = make_msgid(kind, domain=message_id_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = language  # after the body: set_content drops Content-*
    return message


def compose(invite: Invite, qr_png: bytes, sender: str, message_id_domain: str) -> EmailMessage:
    cid = make_msgid("qr", domain=QR_CID_DOMAIN)
    to = recipient(invite.client_name, invite.to)
    words = {"invite": invite, "qr_cid": cid[1:-1]}
    message = _message(
        "invitation", invite.language, words, sender, to, "invite", message_id_domain
    )
    html_part: EmailMessage = message.get_payload()[1]  # type: ignore[index,assignment]
    html_part.add_related(qr_png, maintype="image", subtype="png", cid=cid, filename="qr.png")
    return message


def compose_access_notice(
    notice: AccessNoticeMail, sender: str, message_id_domain: str
) -> EmailMessage:
    to = recipient("", notice.to)
    words = {"notice": notice}
    return _message(
        "access_notice", notice.language, words, sender, to, "access", message_id_domain
    )
