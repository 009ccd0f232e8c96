"""The served OpenAPI schema is the checked-in contract snapshot, and a schema that the app
and dashboard teams can generate typed clients from."""

import json
import re
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from api.app import create_app
from mobile_contract import STATUS, ErrorCode

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


CONTRACT_OPERATION_IDS = {
    "listClients",
    "getClient",
    "updateClient",
    "createClient",
    "importClients",
    "disconnectClient",
    "inviteClients",
    "getInvitation",
    "resendInvitation",
    "revokeInvitation",
    "createQrToken",
    "listEvents",
    "previewInvitation",
    "confirmInvitation",
    "declineInvitation",
    "getMe",
    "createPartner",
    "createBusiness",
}
METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_every_operation_has_a_stable_camel_case_id_and_a_tag() -> None:
    schema = json.loads(SNAPSHOT.read_text())
    ids = [op.get("operationId", "") for _, _, op in operations(schema)]
    assert [i for i in ids if not re.fullmatch(r"[a-z][a-zA-Z]+", i)] == []
    assert len(ids) == len(set(ids))
    assert set(ids) >= CONTRACT_OPERATION_IDS
    assert [(m, p) for m, p, op in operations(schema) if len(op.get("tags", [])) != 1] == []


def test_every_operation_is_documented_by_its_handler_docstring(settings: Any) -> None:
    """The first paragraph is the summary, the rest the description
    (`api.routes.params.DocumentedOperation`)."""
    app = create_app(settings)
    documented = [
        handler
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.resolve_include_in_schema()
    ]
    assert len(documented) > 40
    for handler in documented:
        name = handler.handler_name
        assert handler.summary is None and handler.description is None, name
        assert handler.fn.__doc__, f"{name} has no docstring"


def _is_named(schema: dict[str, Any]) -> bool:
    """A `$ref`, a list of `$ref`s, or one of several `$ref`s: a generated client gets a
    typed model either way."""
    if "$ref" in schema:
        return True
    if schema.get("type") == "array":
        return "$ref" in schema.get("items", {})
    variants = schema.get("oneOf") or schema.get("anyOf")
    return bool(variants) and all("$ref" in v for v in variants)


def test_every_json_body_is_a_named_schema() -> None:
    schema = json.loads(SNAPSHOT.read_text())
    untyped = []
    for method, path, op in operations(schema):
        bodies = [("request", op.get("requestBody", {}).get("content", {}))]
        bodies += [(status, r.get("content") or {}) for status, r in op["responses"].items()]
        for where, content in bodies:
            for media_type, body in content.items():
                if "json" in media_type and not _is_named(body["schema"]):
                    untyped.append((method, path, where, media_type))
    assert untyped == []


def test_media_types_of_images_pages_and_not_modified() -> None:
    paths = json.loads(SNAPSHOT.read_text())["paths"]

    def content(path: str, status: str = "200") -> set[str]:
        return set(paths[path]["get"]["responses"][status].get("content") or {})

    assert content("/i/{token}/qr.png") == {"image/png"}
    assert content("/i/{token}/qr.svg") == {"image/svg+xml"}
    assert content("/i/{token}") == {"text/html"}
    assert content("/i/{token}", "410") == {"text/html"}
    for path in (
        "/api/v1/partners/{partner_id}/clients",
        "/api/v1/partners/{partner_id}/clients/{client_id}",
        "/api/v1/partners/{partner_id}/invitations/{invitation_id}",
        "/api/v1/partners/{partner_id}/registration-links",
        "/api/v1/partners/{partner_id}/registration-links/{link_id}",
    ):
        assert content(path, "304") == set(), path


def documented_codes(operation: dict[str, Any]) -> dict[str, set[str]]:
    return {
        status: set(re.findall(r"`([a-z_]+)`", response.get("description", "")))
        for status, response in operation["responses"].items()
        if "application/problem+json" in (response.get("content") or {})
    }


def test_each_operation_documents_only_the_errors_it_can_give() -> None:
    paths = json.loads(SNAPSHOT.read_text())["paths"]
    assert documented_codes(paths["/api/v1/me"]["get"]) == {
        "400": {"validation_failed"},  # an unknown query parameter
        "401": {"unauthenticated"},
        "503": {"unavailable"},
    }
    assert documented_codes(paths["/api/v1/partners/{partner_id}/clients/{client_id}"]["get"]) == {
        "400": {"validation_failed"},
        "401": {"unauthenticated"},
        "404": {"not_found"},
        "503": {"unavailable"},
    }
    resend = documented_codes(
        paths["/api/v1/partners/{partner_id}/invitations/{invitation_id}/resend"]["post"]
    )
    assert resend["409"] == {"client_already_active", "client_missing_email"}
    assert resend["410"] == {"invitation_superseded"}
    assert resend["429"] == {"rate_limited"}
    preview = documented_codes(paths["/api/v1/mobile/invitations/preview"]["post"])
    assert preview["400"] == {"validation_failed", "token_invalid"}
    assert "403" not in preview
    confirm = documented_codes(paths["/api/v1/mobile/invitations/confirm"]["post"])
    assert confirm["403"] == {"not_business_admin"}
    assert documented_codes(paths["/healthz"]["get"]) == {}
    assert set(paths["/healthz"]["get"]["responses"]) == {"200"}


def test_every_api_operation_documents_the_400_of_an_unknown_query_parameter() -> None:
    schema = json.loads(SNAPSHOT.read_text())
    for method, path, op in operations(schema):
        if path.startswith("/api/v1/"):
            assert "validation_failed" in documented_codes(op).get("400", set()), (method, path)


def test_every_documented_code_is_a_known_code_with_its_status() -> None:
    schema = json.loads(SNAPSHOT.read_text())
    for method, path, op in operations(schema):
        for status, codes in documented_codes(op).items():
            for code in codes:
                assert STATUS[ErrorCode(code)] == int(status), (method, path, code)


def test_the_documentation_page_ships_its_own_assets(test_client: TestClient[Any]) -> None:
    page = test_client.get("/schema")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(url.startswith(("/schema/", "data:")) for url in urls), urls
    assert "//" not in "".join(u for u in urls if not u.startswith("data:"))
    for url in urls:
        if url.startswith("/"):
            assert test_client.get(url).status_code == 200, url
