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
    token = jwt.encode(claims(sub="brief", exp=int(time.time()) + 2), SECRET, "HS256")
    assert me(test_client, token).status_code == 200
    assert me(test_client, token).status_code == 200  # from memory
    time.sleep(
        max(0.0, jwt.decode(token, options={"verify_signature": False})["exp"] - time.time()) + 0.1
    )
    assert_problem(me(test_client, token), 401, "unauthenticated")
