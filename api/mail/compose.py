"""Build an invitation email: text and HTML parts, the link, an inline QR, in the client's
language. All wording lives in `api/templates` (`words/<lang>.j2` and `mail/`)."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr

import msgspec

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


def compose(invite: Invite, qr_png: bytes, sender: str, message_id_domain: str) -> EmailMessage:
    cid = make_msgid("qr", domain=QR_CID_DOMAIN)
    words = {"invite": invite, "qr_cid": cid[1:-1]}
    subject, text, html = render_mail(invite.language, words)
    message = EmailMessage()
    message["Subject"] = subject
    sender_name, sender_address = parseaddr(sender)
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
