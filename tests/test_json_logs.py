"""`LOG_FORMAT=json`: one JSON object a line, request lines with their fields, and the
caller's `X-Request-ID` kept (or one made) and echoed. The run-wide check in conftest
(`no_secrets_in_any_log`) parses every line of every JSON log and looks for secrets."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.conftest import LiveServer
from tests.support import Api, Caller, token_of, until


def request_lines(server: LiveServer) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in server.log().splitlines()]
    return [line for line in lines if line.get("logger") == "api.access"]


def request_line(server: LiveServer, request_id: str) -> dict[str, Any]:
    """The log line of the request with this id, once it is written."""
    return until(
        lambda: next((ln for ln in request_lines(server) if ln["request_id"] == request_id), None)
    )


def test_the_callers_request_id_is_kept_echoed_and_logged(json_server: LiveServer) -> None:
    response = httpx.get(f"{json_server.base_url}/healthz", headers={"X-Request-ID": "trace-1.A_b"})
    assert response.headers["x-request-id"] == "trace-1.A_b"
    line = request_line(json_server, "trace-1.A_b")
    assert {"ts", "level", "msg"} <= line.keys()
    assert line["level"] == "info"
    assert (line["method"], line["route"], line["status"]) == ("GET", "/healthz", 200)
    assert isinstance(line["duration_ms"], float)


def test_a_bad_request_id_is_replaced_by_a_new_one(json_server: LiveServer) -> None:
    for bad in (b"has space", b"x" * 65, "ünïcode".encode(), b"a/b"):
        response = httpx.get(f"{json_server.base_url}/healthz", headers={"X-Request-ID": bad})
        made = response.headers["x-request-id"]
        assert made.encode() != bad and 1 <= len(made) <= 64


def test_request_lines_name_the_route_template_not_the_path(json_server: LiveServer) -> None:
    httpx.get(f"{json_server.base_url}/i/not-a-token/qr.png", headers={"X-Request-ID": "qr-1"})
    line = request_line(json_server, "qr-1")
    assert line["route"] == "/i/{token}/qr.png"
    assert "not-a-token" not in json.dumps(line)


def test_requests_no_route_answers_are_logged_as_unmatched(json_server: LiveServer) -> None:
    """A 404, a 405 and a HEAD are request lines like any other, with the method asked."""
    asked = {
        "lost-1": ("GET", "/no-such-page", 404),
        "wrong-method-1": ("DELETE", "/healthz", 405),
        "head-1": ("HEAD", "/healthz", 200),
    }
    for request_id, (method, path, status) in asked.items():
        response = httpx.request(
            method, f"{json_server.base_url}{path}", headers={"X-Request-ID": request_id}
        )
        assert (response.status_code, response.headers["x-request-id"]) == (status, request_id)
    lines = {rid: request_line(json_server, rid) for rid in asked}
    assert {rid: (ln["method"], ln["route"], ln["status"]) for rid, ln in lines.items()} == {
        "lost-1": ("GET", "unmatched", 404),
        "wrong-method-1": ("DELETE", "unmatched", 405),
        "head-1": ("HEAD", "/healthz", 200),
    }
    assert lines["lost-1"]["msg"].startswith("GET /no-such-page 404 ")


def test_a_token_in_a_path_no_route_matched_is_not_logged(
    api: Api, owner: Caller, partner: str, json_server: LiveServer
) -> None:
    _, invitation = api.invited_client(owner, partner)
    token = token_of(invitation)
    paths = {
        "doubled-1": f"//i/{token}/x",
        "nested-1": f"/x/i/{token}",
        "pasted-1": f"/api/v1/mobile/invitations/{token}",
    }
    for request_id, path in paths.items():
        response = httpx.get(f"{json_server.base_url}{path}", headers={"X-Request-ID": request_id})
        assert response.status_code in (404, 405), path
    lines = [request_line(json_server, request_id) for request_id in paths]
    assert [line["msg"].split(" ")[1] for line in lines] == [
        "//i/[redacted]/x",
        "/x/i/[redacted]",
        "/api/v1/mobile/invitations/[redacted]",
    ]
    assert token.split(".")[-1] not in json_server.log()


def test_every_line_of_a_json_server_is_one_json_object(json_server: LiveServer) -> None:
    httpx.get(f"{json_server.base_url}/readyz")
    time.sleep(0.2)
    for line in json_server.log().splitlines():
        parsed = json.loads(line)
        assert {"ts", "level", "msg"} <= parsed.keys(), line


def test_line_times_are_iso_8601_to_the_millisecond_as_datetime_writes_them() -> None:
    from datetime import UTC, datetime

    from api.logs import JsonFormatter

    formatter = JsonFormatter()
    for created in (0.0, 1764715559.0, 1764715559.0004999, 1764715559.9995, 1764715560.123456):
        expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
        assert formatter.timestamp(created) == expected


def test_made_request_ids_differ_from_request_to_request(json_server: LiveServer) -> None:
    ids = {httpx.get(f"{json_server.base_url}/healthz").headers["x-request-id"] for _ in range(20)}
    assert len(ids) == 20


def test_a_batch_of_request_lines_is_written_as_its_lines_one_by_one() -> None:
    from api.logs import JsonFormatter, Lines, TextFormatter

    healthz = {"method": "GET", "route": "/healthz", "status": 200, "duration_ms": 0.3}
    refused = {"method": "POST", "route": "/x", "status": 400, "duration_ms": 12.0}
    batch = Lines(
        "api.access",
        [
            (1764715559.0004999, "GET /healthz 200 0.3ms", healthz | {"request_id": "a"}),
            (1764715560.5, "POST /x ?[redacted] 400 12.0ms", refused | {"request_id": "b"}),
        ],
    )
    assert [json.loads(line) for line in JsonFormatter().format(batch).splitlines()] == [
        {"ts": "2025-12-02T22:45:59.000+00:00", "level": "info", "logger": "api.access"}
        | {"msg": "GET /healthz 200 0.3ms"}
        | healthz
        | {"request_id": "a"},
        {"ts": "2025-12-02T22:46:00.500+00:00", "level": "info", "logger": "api.access"}
        | {"msg": "POST /x ?[redacted] 400 12.0ms"}
        | refused
        | {"request_id": "b"},
    ]
    for formatter in (JsonFormatter(), TextFormatter()):
        one_by_one = [formatter.format(line) for line in batch.each()]
        assert formatter.format(batch).splitlines() == one_by_one
    text = TextFormatter().format(batch).splitlines()
    assert [line.split(" ", 2)[2] for line in text] == [
        "INFO api.access GET /healthz 200 0.3ms",
        "INFO api.access POST /x ?[redacted] 400 12.0ms",
    ]
    assert batch.getMessage() == "GET /healthz 200 0.3ms\nPOST /x ?[redacted] 400 12.0ms"
