"""Access tokens of a production identity provider, checked against its JWKS served by a
real HTTP server: keys it publishes verify, keys it does not are 401, and while it cannot
be reached the keys it last published keep working and a token that needs a fetch is 503
at once (an app signs out on a 401, not a 503)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import msgspec
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm

from api import auth
from api.auth import AccessTokenVerifier
from api.errors import AppError
from api.settings import Settings
from mobile_contract import ErrorCode
from mobile_contract.models import User

# What a provider that is away may answer instead of its key set: (status, type, body).
FAILURES = {
    "unavailable": (503, "text/plain", b"Service Unavailable"),
    "a proxy's page": (200, "text/html", b"<html><body>Gateway timeout</body></html>"),
    "an empty key set": (200, "application/json", b'{"keys": []}'),
}


class IdentityProvider:
    """A JWKS endpoint: `keys` are published (by kid); while `down` names one of the
    `FAILURES`, that is its answer instead."""

    def __init__(self) -> None:
        self.keys: dict[str, Ed25519PrivateKey] = {}
        self.down: str | None = None
        self.fetches = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.fetches += 1
                if provider.down is None:
                    jwks = {"keys": [provider.jwk(kid) for kid in provider.keys]}
                    status, content_type, body = 200, "application/json", json.dumps(jwks).encode()
                else:
                    status, content_type, body = FAILURES[provider.down]
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def jwk(self, kid: str) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(self.keys[kid].public_key()))
        return jwk | {"kid": kid, "alg": "EdDSA", "use": "sig"}

    def publish(self, kid: str) -> Ed25519PrivateKey:
        self.keys[kid] = Ed25519PrivateKey.generate()
        return self.keys[kid]

    def token(self, kid: str, key: Ed25519PrivateKey | None = None, **claims: Any) -> str:
        return access_token(key or self.keys[kid], kid, **claims)


def access_token(key: Ed25519PrivateKey, kid: str, **claims: Any) -> str:
    """An access token as the provider makes them, signed by `key` under `kid`."""
    now = int(time.time())
    payload: dict[str, Any] = {"sub": "u1", "iss": "banqup-dev", "aud": "invites-api"}
    payload |= {"iat": now, "exp": now + 600, "email": "u1@example.com"} | claims
    return jwt.encode(payload, key, algorithm="EdDSA", headers={"kid": kid})


@pytest.fixture
def provider() -> Iterator[IdentityProvider]:
    idp = IdentityProvider()
    yield idp
    idp.server.shutdown()
    idp.server.server_close()


def verifier_of(settings: Settings, provider: IdentityProvider) -> AccessTokenVerifier:
    return AccessTokenVerifier(msgspec.structs.replace(settings, auth_jwks_url=provider.url))


@pytest.fixture
def verifier(settings: Settings, provider: IdentityProvider) -> AccessTokenVerifier:
    """A verifier of `provider`'s tokens, which publishes the key `k1`."""
    provider.publish("k1")
    return verifier_of(settings, provider)


def verify(verifier: AccessTokenVerifier, token: str) -> User:
    return asyncio.run(verifier.verify(token))


def refused(verifier: AccessTokenVerifier, token: str) -> AppError:
    with pytest.raises(AppError) as caught:
        verify(verifier, token)
    return caught.value


def test_a_token_signed_by_a_published_key_signs_in(
    verifier: AccessTokenVerifier, provider: IdentityProvider
) -> None:
    user = verify(verifier, provider.token("k1", sub="anna"))
    assert user == User(sub="anna", email="u1@example.com", name=None)


def test_a_token_of_a_key_the_provider_does_not_publish_is_401(
    verifier: AccessTokenVerifier, provider: IdentityProvider
) -> None:
    """Unknown `kid`s fetch the key set again at most every 30 s: a stream of made-up ones
    does not become a stream of fetches."""
    forged = provider.token("k1", key=Ed25519PrivateKey.generate())  # the kid, not the key
    assert refused(verifier, forged).code == ErrorCode.UNAUTHENTICATED
    for kid in ("k2", "k3", "k4"):
        unknown = provider.token(kid, key=Ed25519PrivateKey.generate())
        assert refused(verifier, unknown).code == ErrorCode.UNAUTHENTICATED
    assert provider.fetches == 1


@pytest.mark.parametrize("failure", FAILURES)
def test_the_provider_unreachable_is_503_with_retry_after_then_tokens_verify_again(
    verifier: AccessTokenVerifier,
    provider: IdentityProvider,
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
) -> None:
    monkeypatch.setattr(auth, "JWKS_RETRY_SECONDS", 0.5)
    provider.down = failure
    for sub in ("first", "second"):  # the second within the retry pause: no fetch
        error = refused(verifier, provider.token("k1", sub=sub))
        assert (error.code, error.status, error.retry_after) == (ErrorCode.UNAVAILABLE, 503, 0.5)
    assert provider.fetches == 1
    provider.down = None
    time.sleep(0.6)
    assert verify(verifier, provider.token("k1", sub="back")).sub == "back"


@pytest.mark.parametrize("failure", FAILURES)
def test_the_keys_last_published_keep_working_while_the_provider_is_away(
    verifier: AccessTokenVerifier,
    provider: IdentityProvider,
    monkeypatch: pytest.MonkeyPatch,
    failure: str,
) -> None:
    monkeypatch.setattr(auth, "JWKS_KEEP_SECONDS", 0.5)
    assert verify(verifier, provider.token("k1", sub="before")).sub == "before"
    provider.down = failure
    time.sleep(0.6)  # the key set is due to be fetched again, and cannot be
    for sub in ("during", "still"):  # the second within the retry pause: no fetch
        assert verify(verifier, provider.token("k1", sub=sub)).sub == sub
    assert provider.fetches == 2
    unknown = provider.token("k2", key=Ed25519PrivateKey.generate())
    assert refused(verifier, unknown).code == ErrorCode.UNAVAILABLE


def test_many_tokens_wait_for_one_fetch_of_a_provider_that_does_not_answer(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider that takes connections and never answers: tokens arriving together share
    one fetch, and all get their 503 when it fails (not one after the other, each with a
    fetch of its own)."""
    monkeypatch.setattr(auth, "JWKS_FETCH_SECONDS", 0.5)
    silent = socket.create_server(("127.0.0.1", 0))
    taken: list[socket.socket] = []

    def take() -> None:  # every connection, held open and never answered
        with contextlib.suppress(OSError):  # closed at the end
            while True:
                taken.append(silent.accept()[0])

    threading.Thread(target=take, daemon=True).start()
    url = f"http://127.0.0.1:{silent.getsockname()[1]}/jwks.json"
    verifier = AccessTokenVerifier(msgspec.structs.replace(settings, auth_jwks_url=url))
    key = Ed25519PrivateKey.generate()

    async def together() -> list[BaseException | User]:
        tokens = [access_token(key, "k1", sub=f"user{n}") for n in range(4)]
        return await asyncio.gather(*(verifier.verify(t) for t in tokens), return_exceptions=True)

    try:
        outcomes = asyncio.run(together())
    finally:
        for connection in taken:
            connection.close()
        silent.close()
    assert [getattr(o, "code", o) for o in outcomes] == [ErrorCode.UNAVAILABLE] * 4
    assert len(taken) == 1


def test_the_key_set_is_fetched_once_for_many_tokens(
    verifier: AccessTokenVerifier, provider: IdentityProvider
) -> None:
    provider.publish("k2")
    for n in range(6):
        token = provider.token(f"k{n % 2 + 1}", sub=f"user{n}")
        assert verify(verifier, token).sub == f"user{n}"
    assert provider.fetches == 1


def test_a_key_the_provider_withdraws_is_refused_once_the_set_is_fetched_again(
    verifier: AccessTokenVerifier, provider: IdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "JWKS_KEEP_SECONDS", 0.5)
    assert verify(verifier, provider.token("k1", sub="before")).sub == "before"
    withdrawn = provider.keys.pop("k1")
    provider.publish("k2")
    time.sleep(0.6)
    token = provider.token("k1", key=withdrawn, sub="after")
    assert refused(verifier, token).code == ErrorCode.UNAUTHENTICATED
    assert verify(verifier, provider.token("k2", sub="current")).sub == "current"
