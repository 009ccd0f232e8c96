"""The served OpenAPI schema is the checked-in contract snapshot."""

import json
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

SNAPSHOT = Path(__file__).parent.parent / "mobile_contract" / "openapi.json"


def test_served_schema_equals_the_snapshot(test_client: TestClient[Any]) -> None:
    served = test_client.get("/schema/openapi.json").json()
    assert served == json.loads(SNAPSHOT.read_text()), (
        "The served schema changed: run `make openapi` and review the diff of "
        "mobile_contract/openapi.json."
    )


def test_schema_documents_every_contract_route(test_client: TestClient[Any]) -> None:
    paths = test_client.get("/schema/openapi.json").json()["paths"]
    expected = {
        "/api/v1/me": {"get"},
        "/api/v1/partners": {"post"},
        "/api/v1/businesses": {"post"},
        "/api/v1/partners/{partner_id}/clients": {"get", "post"},
        "/api/v1/partners/{partner_id}/clients/import": {"post"},
        "/api/v1/partners/{partner_id}/clients/{client_id}": {"get", "patch"},
        "/api/v1/partners/{partner_id}/clients/{client_id}/disconnect": {"post"},
        "/api/v1/partners/{partner_id}/invitations": {"post"},
        "/api/v1/partners/{partner_id}/invitations/{invitation_id}": {"get"},
        "/api/v1/partners/{partner_id}/invitations/{invitation_id}/resend": {"post"},
        "/api/v1/partners/{partner_id}/invitations/{invitation_id}/revoke": {"post"},
        "/api/v1/partners/{partner_id}/invitations/{invitation_id}/qr-token": {"post"},
        "/api/v1/partners/{partner_id}/events": {"get"},
        "/api/v1/mobile/invitations/preview": {"post"},
        "/api/v1/mobile/invitations/confirm": {"post"},
        "/api/v1/mobile/invitations/decline": {"post"},
        "/api/v1/businesses/{business_id}/links": {"get"},
        "/api/v1/businesses/{business_id}/links/{link_id}/revoke": {"post"},
        "/i/{token}/qr.png": {"get"},
        "/i/{token}/qr.svg": {"get"},
        "/.well-known/jwks.json": {"get"},
        "/healthz": {"get"},
        "/readyz": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
