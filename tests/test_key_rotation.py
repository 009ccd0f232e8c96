"""Rotating the invitation signing key, as the README tells operators to: what the old key
signed keeps working while its private key is a previous key, and only verifies once it is
given as a public key."""

from __future__ import annotations

from pathlib import Path

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.tokens import key_id
from tests.conftest import LiveServer, start_server, stop_server
from tests.mailbox import Mailbox
from tests.support import Caller, token_of, until
from tests.test_tokens import parts

API = "/api/v1"


def key_file(path: Path, key: Ed25519PrivateKey, *, private: bool = True) -> str:
    if private:
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    else:
        pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    path.write_bytes(pem)
    return str(path)


def signed_by(token: str) -> str:
    return str(parts(token)[0]["kid"])


def http(server: LiveServer, caller: Caller) -> httpx.Client:
    return httpx.Client(base_url=server.base_url + API, headers=caller.headers, timeout=10)


def test_what_the_old_key_signed_is_rebuilt_while_its_private_key_is_a_previous_key(
    owner: Caller, mailbox: Mailbox, tmp_path: Path
) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    old_kid, new_kid = key_id(old.public_key()), key_id(new.public_key())
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rotation.db'}"}
    address = "rotation@bakery.example"

    # Before: the old key signs. Web only, so the invitation email stays queued.
    before = start_server(
        "--web-only", INVITE_SIGNING_KEY_FILE=key_file(tmp_path / "old.pem", old), **database
    )
    try:
        with http(before, owner) as api:
            partner = f"/partners/{api.post('/partners', json={'name': 'Rota'}).json()['id']}"
            client = api.post(f"{partner}/clients", json={"name": "Bakery", "email": address})
            invite = {"client_ids": [client.json()["id"]]}
            [result] = api.post(f"{partner}/invitations", json=invite).json()["results"]
            link = api.post(f"{partner}/registration-links", json={"label": "Desk"}).json()
    finally:
        stop_server(before)
    invitation = result["invitation"]
    assert signed_by(token_of(invitation)) == signed_by(link["token"]) == old_kid

    # Step 2 of a rotation: the new key signs, the old private key is a previous key.
    rotated = {
        "INVITE_SIGNING_KEY_FILE": key_file(tmp_path / "new.pem", new),
        "INVITE_PREVIOUS_KEY_FILES": str(tmp_path / "old.pem"),
    }
    after = start_server(**rotated, **database)
    try:
        [message] = until(lambda: mailbox.to(address))
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert invitation["url"] in text  # the queued email went out, with its own link
        with http(after, owner) as api:
            shown = api.get(f"{partner}/invitations/{invitation['id']}").json()
            assert shown["url"] == invitation["url"]
            assert api.get(f"{partner}/registration-links/{link['id']}").json() == link
            preview = {"token": token_of(invitation)}
            assert api.post("/mobile/invitations/preview", json=preview).status_code == 200
            other = {"name": "Florist", "email": "florist@rotation.example"}
            invite = {"client_ids": [api.post(f"{partner}/clients", json=other).json()["id"]]}
            [fresh] = api.post(f"{partner}/invitations", json=invite).json()["results"]
        assert signed_by(token_of(fresh["invitation"])) == new_kid
    finally:
        stop_server(after)

    # Later: the old key as a public key only. Its tokens verify, but cannot be made again.
    rotated["INVITE_PREVIOUS_KEY_FILES"] = key_file(tmp_path / "old.pub", old, private=False)
    verify_only = start_server("--web-only", **rotated, **database)
    try:
        with http(verify_only, owner) as api:
            assert api.post("/mobile/invitations/preview", json=preview).status_code == 200
            shown_link = api.get(f"{partner}/registration-links/{link['id']}").json()
    finally:
        stop_server(verify_only)
    assert shown_link["token"] == ""  # the dashboard can no longer show that link
