"""HEAD is answered as GET without the body (`api.head`): the same status and headers,
`Content-Length` included, on every GET route; on the wire, no byte of a body follows."""

from __future__ import annotations

import socket
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.support import Api, Caller, token_of, until

# Headers that differ from one answer to the next whatever the method.
PER_ANSWER = {"date", "x-request-id"}


def same_answer(head: httpx.Response, get: httpx.Response) -> None:
    assert head.status_code == get.status_code
    assert head.content == b""
    assert {k: v for k, v in head.headers.items() if k not in PER_ANSWER} == {
        k: v for k, v in get.headers.items() if k not in PER_ANSWER
    }


@pytest.fixture
def invited(api: Api, owner: Caller, partner: str) -> dict[str, Any]:
    """An invitation whose email is out: nothing changes the partner's data meanwhile."""
    invitation = api.invited_client(owner, partner, language="nl")[1]
    path = f"/api/v1/partners/{partner}/invitations/{invitation['id']}"
    until(lambda: owner.ok("GET", path)["email_status"] == "sent")
    return invitation


def test_public_pages_answer_head_as_get(api: Api, invited: dict[str, Any]) -> None:
    token = token_of(invited)
    pages = ("/healthz", "/readyz", f"/i/{token}", f"/i/{token}/status", f"/i/{token}/qr.png")
    for path in pages:
        get = api.http.get(path)
        assert get.status_code == 200 and get.content, path
        same_answer(api.http.head(path), get)
    assert int(api.http.head(f"/i/{token}").headers["content-length"]) == len(
        api.http.get(f"/i/{token}").content
    )


def test_head_answers_errors_as_get_does(api: Api, invited: dict[str, Any]) -> None:
    token = token_of(invited)
    for path, status, content_type in (
        ("/api/v1/me", 401, "application/problem+json"),  # no token
        (f"/i/{token}x", 400, "text/html; charset=utf-8"),  # its signature does not verify
        ("/no-such-page", 404, "application/problem+json"),
        ("/api/v1/mobile/invitations/preview", 405, "application/problem+json"),  # POST only
    ):
        get = api.http.get(path)
        assert (get.status_code, get.headers["content-type"]) == (status, content_type), path
        same_answer(api.http.head(path), get)


def test_head_of_a_polled_list_carries_its_etag_and_honours_it(
    api: Api, owner: Caller, partner: str, invited: dict[str, Any]
) -> None:
    path = f"/api/v1/partners/{partner}/clients"
    get = owner.get(path)
    head = owner.request("HEAD", path)
    same_answer(head, get)
    unchanged = owner.request("HEAD", path, headers={"If-None-Match": get.headers["etag"]})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["etag"] == get.headers["etag"]


def test_head_changes_nothing(
    api: Api, owner: Caller, partner: str, invited: dict[str, Any]
) -> None:
    """The landing page and the QR image are safe: asking HEAD of them (a mail system's
    link checker does) leaves the invitation unopened and no event is written."""
    token = token_of(invited)
    for path in (f"/i/{token}", f"/i/{token}/qr.png"):
        assert api.http.head(path).status_code == 200
    after = owner.ok("GET", f"/api/v1/partners/{partner}/invitations/{invited['id']}")
    assert after["opened_at"] is None and after["status"] == "pending"
    events = owner.ok("GET", f"/api/v1/partners/{partner}/events")["events"]
    assert "invitation.opened" not in [e["type"] for e in events]


def exchange(server: LiveServer, requests: bytes) -> bytes:
    """Everything the server sends for `requests`, written at once on one connection
    (the last of them asks it to close)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(requests)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_on_the_wire_no_body_follows_the_head(live_server: LiveServer) -> None:
    """A HEAD then a GET on one keep-alive connection: the server's bytes are the HEAD's
    header block, then the GET's whole answer, nothing in between."""
    host = f"Host: 127.0.0.1:{live_server.port}\r\n".encode()
    received = exchange(
        live_server,
        b"HEAD /healthz HTTP/1.1\r\n" + host + b"\r\n"
        b"GET /healthz HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n",
    )
    head, rest = received.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\ncontent-length: 15" in head.lower()
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n")
    assert rest.endswith(b'\r\n\r\n{"status":"ok"}')


def test_a_405_allows_head_wherever_it_allows_get(api: Api, owner: Caller, partner: str) -> None:
    """`Allow` lists what the resource answers: HEAD with every GET, as answered above."""
    wrong_method = (
        ("PUT", "/healthz", {"GET", "HEAD", "OPTIONS"}),
        ("DELETE", f"/api/v1/partners/{partner}/clients", {"GET", "HEAD", "OPTIONS", "POST"}),
        ("GET", "/api/v1/mobile/invitations/preview", {"OPTIONS", "POST"}),
    )
    for method, path, allowed in wrong_method:
        response = owner.request(method, path)
        assert response.status_code == 405, path
        assert set(response.headers["allow"].replace(" ", "").split(",")) == allowed, path
