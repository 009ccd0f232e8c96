"""Build an invitation email: text and HTML parts, the link, an inline QR, in the client's
language. All wording lives in `api/templates` (`words/<lang>.j2` and `mail/`).

`render_invitation_email` does all of it, down to the bytes SMTP carries, in a render
process: the QR and the MIME tree are the CPU-heavy part of sending.
"""

from __future__ import annotations

import email.policy
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses, make_msgid, parseaddr

import msgspec

from api.qr import render
from api.templates import render_mail

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


class Outgoing(msgspec.Struct, frozen=True, kw_only=True):
    """A message as SMTP carries it: the envelope, and the bytes (CRLF lines, 7-bit bodies)."""

    sender: str
    recipients: list[str]
    message_id: str
    data: bytes
    utf8: bool  # an address is not ASCII: the server must offer SMTPUTF8


def _policy(*addresses: str) -> email.policy.EmailPolicy[EmailMessage]:
    """SMTP line endings and 7-bit bodies (quoted-printable or base64), so any server takes
    the message; UTF-8 headers only when an address needs them."""
    utf8 = not "".join(addresses).isascii()
    return (email.policy.SMTPUTF8 if utf8 else email.policy.SMTP).clone(cte_type="7bit")


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


def render_invitation_email(
    invite: Invite, sender: str, message_id_domain: str, qr_scale: int
) -> Outgoing:
    """The whole email, ready for SMTP; runs in a render process."""
    png = render(invite.url, "png", qr_scale)
    return flatten(compose(invite, png, sender, message_id_domain))


def compose(invite: Invite, qr_png: bytes, sender: str, message_id_domain: str) -> EmailMessage:
    cid = make_msgid("qr", domain=QR_CID_DOMAIN)
    words = {"invite": invite, "qr_cid": cid[1:-1]}
    subject, text, html = render_mail(invite.language, words)
    sender_name, sender_address = parseaddr(sender)
    message = EmailMessage(policy=_policy(sender_address, invite.to))
    message["Subject"] = subject
    message["From"] = Address(display_name=sender_name, addr_spec=sender_address)
    message["To"] = Address(display_name=invite.client_name, addr_spec=invite.to)
    message["Date"] = format_datetime(datetime.now().astimezone())
    message["Message-ID"] = make_msgid("invite", domain=message_id_domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    message["Content-Language"] = invite.language  # after the body: set_content drops Content-*
    html_part: EmailMessage = message.get_payload()[1]  # type: ignore[index,assignment]
    html_part.add_related(qr_png, maintype="image", subtype="png", cid=cid, filename="qr.png")
    return message
