"""SMTP over TLS: STARTTLS when the server offers it, implicit TLS for smtps://, and the
server's certificate checked against the trusted CAs."""

import datetime
import ipaddress
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from api.mail.compose import Outgoing, flatten
from api.mail.transport import DeliveryError, SMTPTransport
from tests.conftest import _free_port


def _cert(
    subject: str, key: Any, issuer_key: Any, issuer: x509.Name | None, ca: bool
) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer or name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ssl.SSLContext]:
    """A test CA (its PEM file) and a server TLS context with a certificate it signed."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key, server_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = _cert("Test CA", ca_key, ca_key, None, ca=True)
    server = _cert("127.0.0.1", server_key, ca_key, ca.subject, ca=False)
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    return folder / "ca.pem", context


class Recorder:
    def __init__(self) -> None:
        self.received: list[tuple[str, bool]] = []  # (recipient, over TLS)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.received += [(rcpt, encrypted) for rcpt in envelope.rcpt_tos]
        return "250 OK"


def message(to: str) -> Outgoing:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = "no-reply@banqup.example", to, "Invitation"
    msg.set_content("Hello")
    return flatten(msg)


def test_starttls_is_used_when_offered(
    pki: tuple[Path, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    ca_file, server_context = pki
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    recorder, port = Recorder(), _free_port()
    controller = Controller(
        recorder, hostname="127.0.0.1", port=port, tls_context=server_context, require_starttls=True
    )
    controller.start()
    try:
        SMTPTransport(f"smtp://127.0.0.1:{port}").send(message("tls@client.example"))
    finally:
        controller.stop()
    assert recorder.received == [("tls@client.example", True)]


def test_smtps_uses_implicit_tls(
    pki: tuple[Path, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    ca_file, server_context = pki
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    recorder, port = Recorder(), _free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, ssl_context=server_context)
    controller.start()
    try:
        SMTPTransport(f"smtps://127.0.0.1:{port}").send(message("smtps@client.example"))
    finally:
        controller.stop()
    assert recorder.received == [("smtps@client.example", True)]


def test_an_untrusted_certificate_is_refused(pki: tuple[Path, ssl.SSLContext]) -> None:
    _, server_context = pki  # the CA is not trusted here
    recorder, port = Recorder(), _free_port()
    controller = Controller(recorder, hostname="127.0.0.1", port=port, ssl_context=server_context)
    controller.start()
    try:
        with pytest.raises(DeliveryError) as refused:
            SMTPTransport(f"smtps://127.0.0.1:{port}").send(message("x@client.example"))
    finally:
        controller.stop()
    assert not refused.value.permanent and "unreachable" in refused.value.reason
    assert recorder.received == []
