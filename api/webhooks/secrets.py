"""Webhook secrets: made, signed with, and kept encrypted at rest.

A secret is `whsec_` + base64 of 32 random bytes (the Standard Webhooks format); a
delivery is signed with HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed by
the decoded bytes, as `v1,<base64>`. Stored secrets are sealed with AES-GCM under a key
derived from WEBHOOK_SECRET_KEY, with the endpoint's id as associated data (a sealed
secret copied onto another row does not open), so a database dump alone does not hand
them out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "whsec_"
SEALED = "v1:"  # the format of a sealed secret, so that another one can follow


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The `v1,…` signature of one delivery attempt."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(
    secrets_in_use: list[str], message_id: str, timestamp: int, body: bytes
) -> str:
    """`webhook-signature`: one signature per secret in use, separated by spaces."""
    return " ".join(sign(s, message_id, timestamp, body) for s in secrets_in_use)


class SecretBox:
    """Seals and opens stored webhook secrets."""

    def __init__(self, key: str) -> None:
        digest = hashlib.sha256(b"banqup-webhook-secrets\0" + key.encode()).digest()
        self._aead = AESGCM(digest)

    def seal(self, secret: str, owner: bytes) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), owner)
        return SEALED + base64.b64encode(nonce + sealed).decode()

    def open(self, stored: str, owner: bytes) -> str:
        """The secret; ValueError if it was sealed under another key or for another row."""
        if not stored.startswith(SEALED):
            raise ValueError("not a sealed webhook secret")
        raw = base64.b64decode(stored.removeprefix(SEALED))
        try:
            return self._aead.decrypt(raw[:12], raw[12:], owner).decode()
        except InvalidTag:
            raise ValueError("webhook secret sealed under another key") from None
