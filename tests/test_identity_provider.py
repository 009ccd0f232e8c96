"""Access tokens of a production identity provider, checked against its JWKS served by a
real HTTP server: keys it publishes verify, keys it does not are 401, and while it cannot
be reached a token that needs its keys is 503 (an app signs out on a 401, not a 503)."""

from __future__ import annotations

import asyncio
import json
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


class IdentityProvider:
    """A JWKS endpoint: `keys` are published (by kid); `down` answers 503 instead."""

    def __init__(self) -> None:
        self.keys: dict[str, Ed25519PrivateKey] = {}
        self.down = False
        self.fetches = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.fetches += 1
                if provider.down:
                    self.send_error(503)
                    return
                jwks = {"keys": [provider.jwk(kid) for kid in provider.keys]}
                body = json.dumps(jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
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
        now = int(time.time())
        payload: dict[str, Any] = {"sub": "u1", "iss": "banqup-dev", "aud": "invites-api"}
        payload |= {"iat": now, "exp": now + 600, "email": "u1@example.com"} | claims
        signing_key = key or self.keys[kid]
        return jwt.encode(payload, signing_key, algorithm="EdDSA", headers={"kid": kid})


@pytest.fixture
def provider() -> Iterator[IdentityProvider]:
    idp = IdentityProvider()
    yield idp
    idp.server.shutdown()
    idp.server.server_close()


def verifier_of(settings: Settings, provider: IdentityProvider) -> AccessTokenVerifier:
    return AccessTokenVerifier(msgspec.structs.replace(settings, auth_jwks_url=provider.url))


def verify(verifier: AccessTokenVerifier, token: str) -> User:
    return asyncio.run(verifier.verify(token))


def refused(verifier: AccessTokenVerifier, token: str) -> AppError:
    with pytest.raises(AppError) as caught:
        verify(verifier, token)
    return caught.value


def test_a_token_signed_by_a_published_key_signs_in(
    settings: Settings, provider: IdentityProvider
) -> None:
    provider.publish("k1")
    user = verify(verifier_of(settings, provider), provider.token("k1", sub="anna"))
    assert user == User(sub="anna", email="u1@example.com", name=None)


def test_a_token_of_a_key_the_provider_does_not_publish_is_401(
    settings: Settings, provider: IdentityProvider
) -> None:
    provider.publish("k1")
    verifier = verifier_of(settings, provider)
    forged = provider.token("k1", key=Ed25519PrivateKey.generate())  # the kid, not the key
    assert refused(verifier, forged).code == ErrorCode.UNAUTHENTICATED
    unknown = provider.token("k2", key=Ed25519PrivateKey.generate())
    assert refused(verifier, unknown).code == ErrorCode.UNAUTHENTICATED


def test_the_provider_unreachable_is_503_with_retry_after_then_tokens_verify_again(
    settings: Settings, provider: IdentityProvider
) -> None:
    provider.publish("k1")
    verifier = verifier_of(settings, provider)
    provider.down = True
    error = refused(verifier, provider.token("k1"))
    assert (error.code, error.status, error.retry_after) == (ErrorCode.UNAVAILABLE, 503, 5)
    provider.down = False
    assert verify(verifier, provider.token("k1", sub="back")).sub == "back"


def test_the_key_set_is_fetched_once_for_many_tokens(
    settings: Settings, provider: IdentityProvider
) -> None:
    provider.publish("k1")
    provider.publish("k2")
    verifier = verifier_of(settings, provider)
    for n in range(6):
        token = provider.token(f"k{n % 2 + 1}", sub=f"user{n}")
        assert verify(verifier, token).sub == f"user{n}"
    assert provider.fetches == 1


def test_a_key_the_provider_withdraws_is_refused_once_the_set_is_fetched_again(
    settings: Settings, provider: IdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(auth, "JWKS_KEEP_SECONDS", 0.5)
    withdrawn = provider.publish("k1")
    verifier = verifier_of(settings, provider)
    assert verify(verifier, provider.token("k1", sub="before")).sub == "before"
    del provider.keys["k1"]
    provider.publish("k2")
    time.sleep(0.6)
    token = provider.token("k1", key=withdrawn, sub="after")
    assert refused(verifier, token).code == ErrorCode.UNAUTHENTICATED
    assert verify(verifier, provider.token("k2", sub="current")).sub == "current"
