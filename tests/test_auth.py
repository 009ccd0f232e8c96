"""Access tokens: every /api/v1 route needs a valid bearer token from the identity provider."""

import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from litestar.testing import TestClient

from tests.support import access_token, assert_problem

SECRET = "test-secret-test-secret-test-secret-0123456789"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {"sub": "u1", "iss": "banqup-dev", "aud": "invites-api", "iat": now, "exp": now + 600}
    return {k: v for k, v in (base | overrides).items() if v is not None}


def me(test_client: TestClient[Any], token: str | None, scheme: str = "Bearer") -> Any:
    headers = {} if token is None else {"Authorization": f"{scheme} {token}".encode()}
    return test_client.get("/api/v1/me", headers=headers)


def test_a_valid_token_signs_in(test_client: TestClient[Any]) -> None:
    response = me(test_client, access_token(test_client, "u1", "u1@example.com", name="Una"))
    assert response.status_code == 200
    assert response.json()["user"] == {"sub": "u1", "email": "u1@example.com", "name": "Una"}


def test_missing_token_is_401(test_client: TestClient[Any]) -> None:
    assert_problem(me(test_client, None), 401, "unauthenticated")


def test_non_bearer_scheme_is_401(test_client: TestClient[Any]) -> None:
    assert_problem(
        me(test_client, access_token(test_client, "u1"), scheme="Basic"), 401, "unauthenticated"
    )


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("garbage", id="garbage"),
        pytest.param(
            jwt.encode(claims(), "another-secret-another-secret-0123", "HS256"), id="forged"
        ),
        pytest.param(jwt.encode(claims(exp=int(time.time()) - 5), SECRET, "HS256"), id="expired"),
        pytest.param(jwt.encode(claims(aud="other-api"), SECRET, "HS256"), id="wrong-audience"),
        pytest.param(jwt.encode(claims(iss="evil"), SECRET, "HS256"), id="wrong-issuer"),
        pytest.param(jwt.encode(claims(exp=None), SECRET, "HS256"), id="no-exp"),
        pytest.param(jwt.encode(claims(exp=10**400), SECRET, "HS256"), id="exp-beyond-a-float"),
        pytest.param(
            jwt.encode(claims(exp=str(int(time.time()) + 600)), SECRET, "HS256"), id="exp-a-string"
        ),
        pytest.param(jwt.encode(claims(aud=None), SECRET, "HS256"), id="no-aud"),
        pytest.param(jwt.encode(claims(sub=None), SECRET, "HS256"), id="no-sub"),
        pytest.param(jwt.encode(claims(), None, "none"), id="alg-none"),
        pytest.param(jwt.encode(claims(), Ed25519PrivateKey.generate(), "EdDSA"), id="wrong-alg"),
        pytest.param("a" * 9000, id="huge"),
        pytest.param("ünïcødé.tøkén.x", id="non-ascii"),
    ],
)
def test_bad_tokens_are_401(test_client: TestClient[Any], token: str) -> None:
    body = assert_problem(me(test_client, token), 401, "unauthenticated")
    assert "Bearer" not in body["detail"]


def test_a_401_names_the_scheme_to_sign_in_with(test_client: TestClient[Any]) -> None:
    # The route's own answer, and the body guard's (a body is never read without a token).
    for response in (me(test_client, None), test_client.post("/api/v1/partners", json={})):
        assert_problem(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("claim", ["iat", "nbf"])
def test_a_token_made_by_a_clock_a_little_ahead_is_accepted(
    test_client: TestClient[Any], claim: str
) -> None:
    now = int(time.time())
    ahead = jwt.encode(claims(**{claim: now + 20}), SECRET, "HS256")
    assert me(test_client, ahead).status_code == 200
    too_far = jwt.encode(claims(**{claim: now + 120}), SECRET, "HS256")
    assert_problem(me(test_client, too_far), 401, "unauthenticated")


def test_a_sub_that_is_no_usable_id_is_refused(test_client: TestClient[Any]) -> None:
    for sub in ("u\x00", "u\n1", "u\ud800", "x" * 256, ""):
        token = jwt.encode(claims(sub=sub), SECRET, "HS256")
        assert_problem(me(test_client, token), 401, "unauthenticated")


@pytest.mark.parametrize(
    ("email", "name", "user"),
    [
        ("una@example.com", "  Una Peeters ", {"email": "una@example.com", "name": "Una Peeters"}),
        ("una\x00@example.com", "Una\x00", {"email": None, "name": None}),
        ("una@example.com\r\nBcc: eve@example.com", "Una\r\nX", {"email": None, "name": None}),
        ("=?utf-8?q?u=0D=0ABcc=3A_e=40v.example?=@example.com", "U", {"email": None, "name": "U"}),
        ("not-an-email", "x" * 201, {"email": None, "name": None}),
        ("u" * 250 + "@example.com", "   ", {"email": None, "name": None}),
        (42, ["Una"], {"email": None, "name": None}),
        ("una\ud800@example.com", "N\udfff", {"email": None, "name": None}),
    ],
)
def test_an_email_or_name_that_cannot_be_stored_or_shown_is_left_out(
    test_client: TestClient[Any], email: Any, name: Any, user: dict[str, Any]
) -> None:
    """Both are stored and shown (in emails, to partners): what is not an address, or not
    one line of at most 200 characters, counts as absent, whatever the database."""
    token = jwt.encode(claims(sub="odd-claims", email=email, name=name), SECRET, "HS256")
    assert me(test_client, token).json()["user"] == {"sub": "odd-claims"} | user
    partner = test_client.post(
        "/api/v1/partners", json={"name": "Odd"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert partner.status_code == 201


def test_every_api_route_needs_a_token(test_client: TestClient[Any]) -> None:
    schema = test_client.get("/schema/openapi.json").json()
    fake = "00000000-0000-4000-8000-000000000000"
    checked = 0
    for path, operations in schema["paths"].items():
        if not path.startswith("/api/v1/"):
            continue
        url = path
        for name in ("partner_id", "client_id", "invitation_id", "business_id", "link_id"):
            url = url.replace("{" + name + "}", fake)
        url = url.replace("{webhook_id}", fake).replace("{delivery_id}", "1")
        for method in operations:
            response = test_client.request(method.upper(), url, json={})
            assert_problem(response, 401, "unauthenticated")
            checked += 1
    assert checked >= 20


def test_a_remembered_token_stops_working_when_it_expires(test_client: TestClient[Any]) -> None:
    """Verified tokens are remembered (polls send the same one), never past their exp."""
    token = jwt.encode(claims(sub="brief", exp=int(time.time()) + 4), SECRET, "HS256")
    assert me(test_client, token).status_code == 200
    assert me(test_client, token).status_code == 200  # from memory
    time.sleep(
        max(0.0, jwt.decode(token, options={"verify_signature": False})["exp"] - time.time()) + 0.1
    )
    assert_problem(me(test_client, token), 401, "unauthenticated")
