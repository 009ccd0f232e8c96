"""Transports chosen by MAIL_URL: SMTP settings parsed, `.eml` files written whole."""

import asyncio
import email
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from api.mail.transport import FileTransport, SMTPTransport, transport_from_url


def message() -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = "Hello"
    msg["From"] = "a@example.com"
    msg["To"] = "b@example.com"
    msg["Message-ID"] = "<abc123@invites.example>"
    msg.set_content("Body")
    return msg


def test_file_transport_writes_one_eml_per_message(tmp_path: Path) -> None:
    transport = transport_from_url(f"file://{tmp_path}/outbox")
    assert isinstance(transport, FileTransport)
    asyncio.run(transport.send(message()))
    [written] = list((tmp_path / "outbox").iterdir())
    assert written.name == "abc123.eml"
    parsed = email.message_from_bytes(written.read_bytes(), policy=default)
    assert parsed["Subject"] == "Hello"
    assert parsed.get_content().strip() == "Body"  # type: ignore[attr-defined]


def test_smtp_urls() -> None:
    plain = transport_from_url("smtp://mail.example:2525")
    assert isinstance(plain, SMTPTransport)
    assert (plain.host, plain.port, plain.implicit_tls, plain.username) == (
        "mail.example",
        2525,
        False,
        None,
    )
    tls = transport_from_url("smtps://user%40corp:p%40ss@mail.example")
    assert isinstance(tls, SMTPTransport)
    assert (tls.host, tls.port, tls.implicit_tls) == ("mail.example", 465, True)
    assert (tls.username, tls.password) == ("user@corp", "p@ss")
    assert transport_from_url("smtp://mail.example").port == 25  # type: ignore[attr-defined]
