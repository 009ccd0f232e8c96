"""CORS answers only the configured dashboard origins, never a wildcard."""

from typing import Any

import msgspec
from litestar.testing import TestClient

from api.app import create_app

DASHBOARD = "https://dashboard.banqup.example"


def app_client(settings: Any, origins: tuple[str, ...]) -> TestClient[Any]:
    # Not entered: no lifespan (see test_landing); preflights and /healthz need no database.
    configured = msgspec.structs.replace(settings, cors_origins=origins)
    return TestClient(create_app(configured), base_url="http://testserver.local")


def preflight(test_client: TestClient[Any], origin: str) -> Any:
    return test_client.options(
        "/api/v1/me",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )


def test_configured_origin_is_allowed(settings: Any) -> None:
    test_client = app_client(settings, (DASHBOARD,))
    response = preflight(test_client, DASHBOARD)
    assert response.status_code in (200, 204)
    assert response.headers["access-control-allow-origin"] == DASHBOARD
    assert "authorization" in response.headers["access-control-allow-headers"].lower()
    simple = test_client.get("/healthz", headers={"Origin": DASHBOARD})
    assert simple.headers["access-control-allow-origin"] == DASHBOARD
    assert "ETag" in simple.headers["access-control-expose-headers"]


def test_other_origins_get_no_cors_headers(settings: Any) -> None:
    test_client = app_client(settings, (DASHBOARD,))
    for origin in ("https://evil.example", "https://dashboard.banqup.example.evil.example", "null"):
        response = test_client.get("/healthz", headers={"Origin": origin})
        assert "access-control-allow-origin" not in response.headers
        assert preflight(test_client, origin).headers.get("access-control-allow-origin") in (
            None,
            "",
        )


def test_no_origins_configured_means_no_cors(settings: Any) -> None:
    test_client = app_client(settings, ())
    response = test_client.get("/healthz", headers={"Origin": DASHBOARD})
    assert "access-control-allow-origin" not in response.headers
    assert "*" not in str(response.headers)
