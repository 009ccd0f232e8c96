"""Invitation tokens: short EdDSA (Ed25519) JWTs, their key ring and JWKS.

A token is `{alg, kid}` over `{jti, exp, typ}` and nothing else, so that a link to it
fits a small QR code. Verification allows EdDSA only, requires `exp` and `jti`, looks
`kid` up in the local ring (never `jku`/`x5u`/`jwk`), and refuses unknown headers. The
database decides everything beyond the signature (revoked, superseded, accepted).

Signatures are deterministic, so a token is rebuilt from its stored `jti`, `kid` and
expiry rather than stored. Signed tokens and verified claims are kept in bounded caches.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, get_args

import jwt
import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from api.errors import AppError
from api.lru import LRU
from api.settings import ConfigError
from mobile_contract import ErrorCode
from mobile_contract.links import is_token

TokenType = Literal["inv", "qr", "reg"]
_ALLOWED_HEADERS = {"alg", "kid"}
_CACHE_SIZE = 50_000


TOKEN_TYPES = get_args(TokenType)


class Claims(msgspec.Struct, frozen=True):
    jti: str
    exp: int
    typ: TokenType

    def expired(self, now: float | None = None) -> bool:
        return self.exp <= (time.time() if now is None else now)


def new_token_id() -> str:
    """A fresh `jti`: 96 random bits, 16 base64url characters."""
    return secrets.token_urlsafe(12)


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short, stable `kid`: the start of the key's RFC 7638 thumbprint."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    canonical = f'{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}'.encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()[:8]


def _load_private_key(path: Path, *, create: bool) -> Ed25519PrivateKey:
    if not path.exists() and create:
        path.parent.mkdir(parents=True, exist_ok=True)
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process created it first; read theirs
        else:
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise ConfigError(f"INVITE_SIGNING_KEY_FILE {path}: {exc.strerror}") from None
    except ValueError:
        raise ConfigError(f"INVITE_SIGNING_KEY_FILE {path}: not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"INVITE_SIGNING_KEY_FILE {path}: not an Ed25519 key")
    return key


def _load_previous_key(path: Path) -> Ed25519PrivateKey | Ed25519PublicKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"INVITE_PREVIOUS_KEY_FILES {path}: {exc.strerror}") from None
    try:
        if b"PRIVATE KEY" in data:
            key: Any = serialization.load_pem_private_key(data, password=None)
        else:
            key = serialization.load_pem_public_key(data)
    except ValueError:
        raise ConfigError(f"INVITE_PREVIOUS_KEY_FILES {path}: not a PEM key") from None
    if not isinstance(key, Ed25519PrivateKey | Ed25519PublicKey):
        raise ConfigError(f"INVITE_PREVIOUS_KEY_FILES {path}: not an Ed25519 key")
    return key


class KeyRing:
    """Signs new tokens with the current key. Verifies with it and every previous key.
    Rebuilds a stored token with the key that signed it, while that key's private part is
    here: the current key, or a previous key given as a private key (a rotation's second
    step). A previous key given as a public key only verifies: what it signed is made again
    by the current key, the same grant under a new signature (as when a key is dropped)."""

    def __init__(
        self,
        signing_key: Ed25519PrivateKey,
        previous: Sequence[Ed25519PrivateKey | Ed25519PublicKey],
    ) -> None:
        self.kid = key_id(signing_key.public_key())
        self._private: dict[str, Ed25519PrivateKey] = {self.kid: signing_key}
        self._public: dict[str, Ed25519PublicKey] = {self.kid: signing_key.public_key()}
        for key in previous:
            public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
            kid = key_id(public)
            self._public.setdefault(kid, public)
            if isinstance(key, Ed25519PrivateKey):
                self._private.setdefault(kid, key)
        self._claims: LRU[str, Claims] = LRU(_CACHE_SIZE)
        self._signed: LRU[tuple[str, int, str, str], str] = LRU(_CACHE_SIZE)

    @classmethod
    def from_files(
        cls, signing_file: str, previous_files: tuple[str, ...], *, create: bool
    ) -> KeyRing:
        return cls(
            _load_private_key(Path(signing_file), create=create),
            [_load_previous_key(Path(p)) for p in previous_files],
        )

    def sign(self, jti: str, exp: datetime | int, typ: TokenType, kid: str | None = None) -> str:
        """The token for (`jti`, `exp`, `typ`) signed by the key `kid` while its private
        part is here, else (and by default) by the current key; the same inputs always give
        the same token."""
        kid = kid if kid in self._private else self.kid
        signing_key = self._private[kid]
        exp_ts = exp if isinstance(exp, int) else int(exp.timestamp())
        key = (jti, exp_ts, typ, kid)
        token = self._signed.get(key)
        if token is None:  # signing costs ~50 µs; lists re-sign every pending invitation
            token = jwt.encode(
                {"jti": jti, "exp": exp_ts, "typ": typ},
                signing_key,
                algorithm="EdDSA",
                headers={"kid": kid, "typ": None},
            )
            self._signed.put(key, token)
            if typ in TOKEN_TYPES:  # made here, so genuine: verifying it (~0.2 ms) can wait
                self._claims.put(token, Claims(jti=jti, exp=exp_ts, typ=typ))
        return token

    def verify(self, token: str) -> Claims:
        """Claims of a genuinely signed token, else AppError token_invalid.

        Expiry is left to the caller, which knows what expired (an invitation, a
        registration link or a short-lived QR token) and answers with that code.
        """
        cached = self._claims.get(token)
        if cached is None:
            cached = self._verify_signature(token)
            self._claims.put(token, cached)
        return cached

    def _verify_signature(self, token: str) -> Claims:
        if not is_token(token):
            raise invalid_token()
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise invalid_token() from None
        if set(header) - _ALLOWED_HEADERS or header.get("alg") != "EdDSA":
            raise invalid_token()
        kid = header.get("kid")
        key = self._public.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise invalid_token()
        try:
            payload = jwt.decode(
                token,
                key,
                algorithms=["EdDSA"],
                options={"require": ["exp", "jti"], "verify_exp": False},
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            raise invalid_token() from None
        try:
            return msgspec.convert(payload, Claims)
        except msgspec.ValidationError:
            raise invalid_token() from None

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self._public.items():
            raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
            keys.append(
                {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"}
            )
        return {"keys": keys}


def invalid_token() -> AppError:
    """The answer to anything that is not a genuine token of ours (or no longer points
    at anything)."""
    return AppError(ErrorCode.TOKEN_INVALID, "This is not a valid invitation token.")
