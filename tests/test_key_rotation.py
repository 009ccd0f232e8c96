"""Rotating the invitation signing key, as the README tells operators to: what the old key
signed is made again by it while its private key is a previous key; once it is given as a
public key, or dropped, what it signed is made again by the new key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.tokens import key_id
from tests.conftest import LiveServer, start_server, stop_server
from tests.mailbox import Mailbox
from tests.support import Caller, token_of, token_parts, until

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
    return str(token_parts(token)[0]["kid"])


def http(server: LiveServer, caller: Caller) -> httpx.Client:
    return httpx.Client(base_url=server.base_url + API, headers=caller.headers, timeout=10)


def made_under(
    old: Ed25519PrivateKey, owner: Caller, tmp_path: Path, address: str
) -> tuple[dict[str, str], str, dict[str, Any], dict[str, Any]]:
    """Before: on a database of its own, `old` signs (`old.pem`), served web only so the
    invitation email stays queued. (the database's settings, the partner's path, an
    invitation to `address`, a registration link)"""
    database = {"DATABASE_URL": f"sqlite:///{tmp_path / 'keys.db'}"}
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
    return database, partner, result["invitation"], link


def test_what_the_old_key_signed_is_rebuilt_while_its_private_key_is_a_previous_key(
    owner: Caller, mailbox: Mailbox, tmp_path: Path
) -> None:
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    old_kid, new_kid = key_id(old.public_key()), key_id(new.public_key())
    address = "rotation@bakery.example"
    database, partner, invitation, link = made_under(old, owner, tmp_path, address)
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

    # Later: the old key as a public key only. Its tokens verify; the dashboard shows the
    # link signed by the new key (printed posters of the old token still work).
    rotated["INVITE_PREVIOUS_KEY_FILES"] = key_file(tmp_path / "old.pub", old, private=False)
    verify_only = start_server("--web-only", **rotated, **database)
    try:
        with http(verify_only, owner) as api:
            assert api.post("/mobile/invitations/preview", json=preview).status_code == 200
            shown_link = api.get(f"{partner}/registration-links/{link['id']}").json()
            assert signed_by(shown_link["token"]) == new_kid
            assert shown_link["url"].endswith(shown_link["token"])
            for token in (link["token"], shown_link["token"]):
                answer = api.post("/mobile/invitations/preview", json={"token": token})
                assert answer.status_code == 200
                assert answer.json()["registration_link_id"] == link["id"]
    finally:
        stop_server(verify_only)


def test_what_a_dropped_key_signed_is_made_again_by_the_new_key(
    owner: Caller, mailbox: Mailbox, tmp_path: Path
) -> None:
    """A key that leaked is dropped at once: its tokens stop working, and the queued email,
    the dashboard's invitation link and the registration link carry the new key's."""
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    new_kid = key_id(new.public_key())
    address = "dropped@bakery.example"
    database, partner, invitation, link = made_under(old, owner, tmp_path, address)
    after = start_server(INVITE_SIGNING_KEY_FILE=key_file(tmp_path / "new.pem", new), **database)
    try:
        [message] = until(lambda: mailbox.to(address))
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        with http(after, owner) as api:
            path = f"{partner}/invitations/{invitation['id']}"
            shown = until(lambda: (s := api.get(path).json())["email_status"] == "sent" and s)
            shown_link = api.get(f"{partner}/registration-links/{link['id']}").json()
            for stale in (token_of(invitation), link["token"]):
                answer = api.post("/mobile/invitations/preview", json={"token": stale})
                assert (answer.status_code, answer.json()["code"]) == (400, "token_invalid")
            for fresh in (token_of(shown), shown_link["token"]):
                assert signed_by(fresh) == new_kid
                answer = api.post("/mobile/invitations/preview", json={"token": fresh})
                assert answer.status_code == 200
    finally:
        stop_server(after)
    assert shown["status"] == "pending"
    assert shown["url"] != invitation["url"] and shown["url"] in text
