"""Invitation tokens: short EdDSA JWTs that only this service's key ring can make."""

import base64
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from api.errors import AppError
from api.routes.bodies import MOBILE_BODY_MAX
from api.tokens import Claims, KeyRing, key_id
from tests.support import Api, Caller, assert_problem, token_of, token_parts

MOBILE = "/api/v1/mobile/invitations"


def b64(data: bytes | dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode() if isinstance(data, dict) else data
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def ring(signing_key: Ed25519PrivateKey) -> KeyRing:
    return KeyRing(signing_key, [])


def test_token_is_minimal_and_deterministic(ring: KeyRing) -> None:
    token = ring.sign("abcdefghijklmnop", 2_000_000_000, "inv")
    header, payload, _ = token_parts(token)
    assert header == {"alg": "EdDSA", "kid": ring.kid}
    assert payload == {"jti": "abcdefghijklmnop", "exp": 2_000_000_000, "typ": "inv"}
    assert ring.sign("abcdefghijklmnop", 2_000_000_000, "inv") == token
    assert len(token) < 220
    claims = ring.verify(token)
    assert (claims.jti, claims.exp, claims.typ) == ("abcdefghijklmnop", 2_000_000_000, "inv")


def test_previous_keys_still_verify(ring: KeyRing) -> None:
    old_key = Ed25519PrivateKey.generate()
    old = KeyRing(old_key, [])
    token = old.sign("j" * 16, 2_000_000_000, "reg")
    rotated = KeyRing(Ed25519PrivateKey.generate(), [old_key.public_key()])
    assert rotated.verify(token).typ == "reg"
    assert {k["kid"] for k in rotated.jwks()["keys"]} == {rotated.kid, old.kid}
    with pytest.raises(AppError):
        ring.verify(token)


def test_a_previous_private_key_rebuilds_what_it_signed() -> None:
    old_key = Ed25519PrivateKey.generate()
    old = KeyRing(old_key, [])
    token = old.sign("j" * 16, 2_000_000_000, "inv")
    rotated = KeyRing(Ed25519PrivateKey.generate(), [old_key])
    assert rotated.sign("j" * 16, 2_000_000_000, "inv", old.kid) == token
    assert token_parts(rotated.sign("k" * 16, 2_000_000_000, "inv"))[0]["kid"] == rotated.kid


def test_what_no_private_key_here_signed_is_made_again_by_the_current_key() -> None:
    """A previous key given as a public key, or one dropped: the same grant (`jti`, `exp`,
    `typ`) under the current key's signature."""
    old_key = Ed25519PrivateKey.generate()
    old = KeyRing(old_key, [])
    token = old.sign("j" * 16, 2_000_000_000, "inv")
    for previous in ([old_key.public_key()], []):
        ring = KeyRing(Ed25519PrivateKey.generate(), previous)
        remade = ring.sign("j" * 16, 2_000_000_000, "inv", old.kid)
        header, payload = token_parts(remade)[:2]
        assert header["kid"] == ring.kid
        assert payload == token_parts(token)[1]
        assert ring.verify(remade) == Claims(jti="j" * 16, exp=2_000_000_000, typ="inv")


def forged_tokens(ring: KeyRing, signing_key: Ed25519PrivateKey) -> dict[str, str]:
    """Tokens that are not ours, some signed with the ring's own key (missing claims)."""
    good = ring.sign("abcdefghijklmnop", 2_000_000_000, "inv")
    header, payload, signature = good.split(".")
    public_pem = signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = {"jti": "abcdefghijklmnop", "exp": 2_000_000_000, "typ": "inv"}
    hs_header = b64({"alg": "HS256", "kid": ring.kid})
    hs_body = b64(claims)
    import hashlib
    import hmac

    hs_signature = b64(
        hmac.new(public_pem, f"{hs_header}.{hs_body}".encode(), hashlib.sha256).digest()
    )
    other = KeyRing(Ed25519PrivateKey.generate(), [])
    return {
        "alg-none": f"{b64({'alg': 'none', 'kid': ring.kid})}.{payload}.",
        "alg-none-with-signature": f"{b64({'alg': 'none', 'kid': ring.kid})}.{payload}.{signature}",
        "hs256-with-public-key": f"{hs_header}.{hs_body}.{hs_signature}",
        "tampered-payload": f"{header}.{b64(claims | {'jti': 'zzzzzzzzzzzzzzzz'})}.{signature}",
        "truncated-signature": f"{header}.{payload}.{signature[:-8]}",
        "unknown-kid": other.sign("abcdefghijklmnop", 2_000_000_000, "inv"),
        "kid-path-traversal": f"{b64({'alg': 'EdDSA', 'kid': '../../etc/passwd'})}.{payload}.{signature}",
        "kid-very-long": f"{b64({'alg': 'EdDSA', 'kid': 'k' * 500})}.{payload}.{signature}",
        "jku-header": f"{b64({'alg': 'EdDSA', 'kid': ring.kid, 'jku': 'https://evil.example/jwks'})}"
        f".{payload}.{signature}",
        "crit-header": f"{b64({'alg': 'EdDSA', 'kid': ring.kid, 'crit': ['exp']})}.{payload}.{signature}",
        "garbage": "not-a-token",
        "two-parts": f"{header}.{payload}",
        "non-json": f"{b64(b'hello')}.{payload}.{signature}",
        "wrong-typ": ring.sign("abcdefghijklmnop", 2_000_000_000, "xyz"),  # type: ignore[arg-type]
        "no-jti": jwt.encode(
            {"exp": 2_000_000_000, "typ": "inv"},
            signing_key,
            "EdDSA",
            headers={"kid": ring.kid, "typ": None},
        ),
        "no-exp": jwt.encode(
            {"jti": "x" * 16, "typ": "inv"},
            signing_key,
            "EdDSA",
            headers={"kid": ring.kid, "typ": None},
        ),
        "not-yet-valid": jwt.encode(
            claims | {"nbf": int(time.time()) + 3600},
            signing_key,
            "EdDSA",
            headers={"kid": ring.kid, "typ": None},
        ),
        "huge": "a" * 20_000 + "." + payload + "." + signature,
    }


def test_forged_tokens_are_invalid(ring: KeyRing, signing_key: Ed25519PrivateKey) -> None:
    for name, token in forged_tokens(ring, signing_key).items():
        with pytest.raises(AppError) as caught:
            ring.verify(token)
        assert caught.value.code == "token_invalid", name


def test_kid_is_the_key_thumbprint(ring: KeyRing, signing_key: Ed25519PrivateKey) -> None:
    jwk = ring.jwks()["keys"][0]
    assert jwk == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": jwk["x"],
        "kid": ring.kid,
        "alg": "EdDSA",
        "use": "sig",
    }
    assert key_id(signing_key.public_key()) == ring.kid == jwk["kid"]


def test_jwks_is_served_and_verifies_real_tokens(api: Api) -> None:
    owner = api.user("anna")
    partner = api.partner(owner)
    _, invitation = api.invited_client(owner, partner)
    response = api.http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    [key] = response.json()["keys"]
    public = jwt.PyJWK(key).key
    claims = jwt.decode(token_of(invitation), public, algorithms=["EdDSA"])
    assert claims["typ"] == "inv"


def test_forged_tokens_get_token_invalid_on_every_route(api: Api, owner: Caller) -> None:
    partner = api.partner(owner)
    api.invited_client(owner, partner)
    ring: KeyRing = api.ctx.keys
    key_file = Path(api.ctx.settings.invite_signing_key_file)
    signing_key = serialization.load_pem_private_key(key_file.read_bytes(), None)
    assert isinstance(signing_key, Ed25519PrivateKey)
    ben = api.user("ben")
    access = ben.headers["Authorization"].removeprefix("Bearer ")
    attacks = forged_tokens(ring, signing_key) | {
        "access-token": access,
        "non-ascii": "ëÿJ.ëÿJ.ëÿJ",
        "unknown-jti": ring.sign("nosuchinvitation", 2_000_000_000, "inv"),
    }
    for name, token in attacks.items():
        for path, extra in (
            ("preview", {}),
            ("confirm", {"new_business": {"name": "B"}}),
            ("decline", {}),
        ):
            response = ben.post(f"{MOBILE}/{path}", json={"token": token} | extra)
            if len(token) > MOBILE_BODY_MAX:  # refused before it is read
                assert_problem(response, 413, "payload_too_large")
                continue
            assert response.status_code == 400, (name, path, response.text)
            assert response.json()["code"] in ("token_invalid", "validation_failed"), (name, path)
        if token.isascii() and "/" not in token and len(token) < 2000:
            for image in ("qr.png", "qr.svg", "status"):
                assert_problem(api.http.get(f"/i/{token}/{image}"), 400, "token_invalid")
            page = api.http.get(f"/i/{token}")
            assert page.status_code == 400 and 'data-error="invalid"' in page.text
    assert ben.ok("GET", "/api/v1/me")["businesses"] == []


def test_an_expired_invitation_token_reads_expired(api: Api, owner: Caller) -> None:
    partner = api.partner(owner)
    _, invitation = api.invited_client(owner, partner)
    ring: KeyRing = api.http.app.state.ctx.keys
    _, payload, _ = token_parts(token_of(invitation))
    stale = ring.sign(payload["jti"], int(time.time()) - 10, "inv")
    response = api.user("ben").post(f"{MOBILE}/preview", json={"token": stale})
    assert_problem(response, 410, "invitation_expired")


def shapeless_tokens(genuine: str) -> dict[str, str]:
    """Strings in a token field that are not tokens of this service, all within 4,096
    characters: each is `token_invalid`, never `validation_failed`."""
    header, payload, signature = genuine.split(".")
    return {
        "alg-none": f"{b64({'alg': 'none'})}.{payload}.",
        "empty-signature": f"{header}.{payload}.",
        "truncated": genuine[: len(genuine) // 2],
        "4096-characters": (f"{header}.{payload}.{signature}" + "A" * 4096)[:4096],
        "4096-letters": "x" * 4096,
        "empty": "",
        "spaces": "   ",
        "foreign-jwt": jwt.encode({"sub": "x"}, "secret-secret-secret-secret-secret", "HS256"),
    }


def test_a_token_field_holding_anything_but_our_token_is_token_invalid(
    api: Api, owner: Caller
) -> None:
    partner = api.partner(owner)
    _, invitation = api.invited_client(owner, partner)
    ben = api.user("ben")
    for name, token in shapeless_tokens(token_of(invitation)).items():
        for path, extra in (
            ("preview", {}),
            ("confirm", {"new_business": {"name": "B"}}),
            ("decline", {}),
        ):
            response = ben.post(f"{MOBILE}/{path}", json={"token": token} | extra)
            assert (response.status_code, response.json()["code"]) == (400, "token_invalid"), (
                name,
                path,
            )
        if token.strip():
            page = api.http.get(f"/i/{token}")
            assert page.status_code == 400, name
            assert 'data-error="invalid"' in page.text, name
    assert ben.ok("GET", "/api/v1/me")["businesses"] == []


def test_only_a_missing_a_non_string_or_an_overlong_token_is_validation_failed(
    api: Api, owner: Caller
) -> None:
    partner = api.partner(owner)
    api.invited_client(owner, partner)
    ben = api.user("ben")
    for path in ("preview", "confirm", "decline"):
        for body in ({"token": "x" * 4097}, {"token": 12}, {"token": ["a.b.c"]}, {}):
            response = ben.post(f"{MOBILE}/{path}", json=body)
            problem = assert_problem(response, 400, "validation_failed")
            assert problem["errors"][0]["field"] == "token", (path, body)


def test_the_landing_page_of_an_overlong_token_is_its_400_page(api: Api) -> None:
    page = api.http.get("/i/" + "x" * 4097)
    assert page.status_code == 400
    assert 'data-error="invalid"' in page.text
