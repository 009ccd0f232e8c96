"""Request bodies: the caller is known before a body is read; sizes per route (413);
bodies that do not decode (deep nesting included) are 400, never a 500."""

from __future__ import annotations

import uuid

from tests.support import Api, Caller, assert_problem

PREVIEW = "/api/v1/mobile/invitations/preview"
JSON = {"content-type": "application/json"}
DEEP = b"[" * 5000 + b"]" * 5000


def test_an_anonymous_body_is_refused_before_it_is_read(api: Api) -> None:
    response = api.http.post(PREVIEW, content=DEEP, headers=JSON)
    assert_problem(response, 401, "unauthenticated")


def test_a_bad_access_token_is_refused_before_the_body_is_read(api: Api) -> None:
    response = api.http.post(PREVIEW, content=DEEP, headers=JSON | {"authorization": "Bearer x"})
    assert_problem(response, 401, "unauthenticated")


def test_json_nested_5000_deep_is_a_validation_error(owner: Caller) -> None:
    for body in (DEEP, b'{"name": ' + DEEP + b"}"):
        response = owner.request("POST", "/api/v1/partners", content=body, headers=JSON)
        problem = assert_problem(response, 400, "validation_failed")
        assert problem["errors"] == [{"field": "body", "message": "is nested too deeply"}]


def test_json_nested_within_the_mobile_size_is_a_validation_error(owner: Caller) -> None:
    deep = b"[" * 4000 + b"]" * 4000
    response = owner.request("POST", PREVIEW, content=b'{"token": ' + deep + b"}", headers=JSON)
    assert_problem(response, 400, "validation_failed")


def test_json_nested_deeply_inside_a_partner_route_is_a_validation_error(
    owner: Caller, partner: str
) -> None:
    body = b'{"name": "A", "external_ref": ' + DEEP + b"}"
    response = owner.request(
        "POST", f"/api/v1/partners/{partner}/clients", content=body, headers=JSON
    )
    assert_problem(response, 400, "validation_failed")


def test_a_mobile_body_over_8_kib_is_payload_too_large(owner: Caller) -> None:
    response = owner.post(PREVIEW, json={"token": "x" * 9000})
    problem = assert_problem(response, 413, "payload_too_large")
    assert problem["title"] == "Request body too large"


def test_an_11_mb_body_is_payload_too_large_on_every_route(owner: Caller, partner: str) -> None:
    big = b'{"clients": [' + b" " * (11 * 1024 * 1024) + b"]}"
    for path in (f"/api/v1/partners/{partner}/clients/import", PREVIEW, "/api/v1/partners"):
        response = owner.request("POST", path, content=big, headers=JSON)
        assert_problem(response, 413, "payload_too_large")


def test_a_body_without_length_is_counted_as_it_arrives(owner: Caller) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b" " * 1024

    response = owner.request("POST", PREVIEW, content=chunks(), headers=JSON)
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload_too_large")


def test_an_invite_of_1000_ids_fits_its_route(owner: Caller, partner: str) -> None:
    body = {"client_ids": [str(uuid.uuid4()) for _ in range(1000)], "message": "é" * 2000}
    response = owner.post(f"/api/v1/partners/{partner}/invitations", json=body)
    assert response.status_code == 200, response.text
    assert {r["error"]["code"] for r in response.json()["results"]} == {"not_found"}


def test_the_titles_of_payload_too_large_are_translated(owner: Caller) -> None:
    response = owner.post(PREVIEW, json={"token": "x" * 9000}, headers={"accept-language": "nl"})
    assert assert_problem(response, 413, "payload_too_large")["title"] == "Aanvraag te groot"
