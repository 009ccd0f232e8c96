"""Transports chosen by MAIL_URL: SMTP settings parsed, `.eml` files written whole."""

import email
import pickle
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from api.mail.compose import flatten
from api.mail.transport import DeliveryError, FileTransport, SMTPTransport, transport_from_url
from tests.conftest import _free_port


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
    transport.send(flatten(message()))
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


class Accepting:
    def __init__(self) -> None:
        self.envelopes: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, envelope.rcpt_tos, envelope.original_content))
        return "250 OK"


@pytest.mark.parametrize("smtputf8", [True, False])
def test_non_ascii_addresses_need_smtputf8(smtputf8: bool) -> None:
    msg = message()
    del msg["To"]
    msg["To"] = "Jürgen <jürgen@bäckerei.example>"
    outgoing = flatten(msg)
    assert outgoing.utf8 and outgoing.recipients == ["jürgen@bäckerei.example"]
    handler, port = Accepting(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, enable_SMTPUTF8=smtputf8)
    controller.start()
    error = None
    try:
        SMTPTransport(f"smtp://127.0.0.1:{port}").send(outgoing)
    except DeliveryError as refused:
        error = refused
    finally:
        controller.stop()
    if smtputf8:
        assert error is None
        [(sender, recipients, data)] = handler.envelopes
        assert (sender, recipients) == ("a@example.com", ["jürgen@bäckerei.example"])
        parsed = email.message_from_string(data.decode(), policy=default)  # UTF-8 headers
        assert parsed["To"].addresses[0].addr_spec == "jürgen@bäckerei.example"
    else:
        assert error is not None and error.permanent and "SMTPUTF8" in error.reason
        assert handler.envelopes == []


def test_bodies_are_7bit_whatever_the_language() -> None:
    msg = message()
    msg.set_content("Uitnodiging van Één — à bientôt, Grüße")
    outgoing = flatten(msg)
    assert outgoing.data.isascii() and not outgoing.utf8
    assert b"\r\n" in outgoing.data
    parsed = email.message_from_bytes(outgoing.data, policy=default)
    assert parsed.get_content().strip() == "Uitnodiging van Één — à bientôt, Grüße"  # type: ignore[attr-defined]


def test_a_kept_connection_dropped_by_the_server_is_opened_again() -> None:
    handler, port = Accepting(), _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    transport = SMTPTransport(f"smtp://127.0.0.1:{port}")
    try:
        transport.send(flatten(message()))
        controller.stop()  # the server goes away, and comes back on the same port
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        transport.send(flatten(message()))
    finally:
        controller.stop()
    assert len(handler.envelopes) == 2


def test_delivery_errors_cross_process_boundaries() -> None:
    error = pickle.loads(pickle.dumps(DeliveryError("550 no such user", permanent=True)))
    assert (error.reason, error.permanent) == ("550 no such user", True)
