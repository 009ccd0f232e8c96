"""Holding under abuse, against a real server process on loopback: slow bodies, long-poll
floods and guessed codes leave the service answering; bounded in count and in time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from tests.conftest import LiveServer, start_server, stop_server
from tests.support import Api, Caller, assert_problem

MOBILE = "/api/v1/mobile/invitations"


@pytest.fixture(scope="module")
def server(test_client: TestClient[Any]) -> Iterator[LiveServer]:
    server = start_server(BODY_READ_SECONDS="2")
    yield server
    stop_server(server)


def _codes(count: int) -> list[str]:
    letters = "BCDFGHJKLMNPQRSTVWXZ"
    return [
        "".join(letters[(n // 20**i) % 20] for i in range(8)) for n in range(1000, 1000 + count)
    ]


async def _guess(base_url: str, headers: list[dict[str, str]], codes: list[str]) -> list[int]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        responses = await asyncio.gather(
            *(
                http.post(f"{MOBILE}/preview", json={"user_code": code}, headers=h)
                for h, code in zip(headers, codes, strict=True)
            )
        )
    return [r.status_code for r in responses]


def test_200_concurrent_wrong_codes_of_one_user_check_at_most_5(
    api: Api, server: LiveServer
) -> None:
    ben = api.user("ben")
    statuses = asyncio.run(_guess(server.base_url, [ben.headers] * 200, _codes(200)))
    assert statuses.count(404) == 5 and statuses.count(429) == 195, sorted(set(statuses))
    response = ben.post(f"{MOBILE}/preview", json={"user_code": "BBBB-BBBB"})
    assert_problem(response, 429, "rate_limited")
    assert 590 <= int(response.headers["retry-after"]) <= 600


def test_wrong_codes_from_one_address_are_capped_whoever_types_them(
    api: Api, test_client: TestClient[Any]
) -> None:
    limit = test_client.app.state.settings.user_code_attempts_per_address
    users = [api.user() for _ in range(limit // 5 + 2)]
    statuses = [  # 5 each: within each user's own budget, beyond the address's
        user.post(f"{MOBILE}/preview", json={"user_code": code}).status_code
        for user in users
        for code in _codes(5)
    ]
    assert statuses.count(404) == limit
    assert set(statuses) == {404, 429}


def test_a_right_code_costs_nothing(api: Api, owner: Caller, partner: str) -> None:
    _, invitation = api.invited_client(owner, partner)
    url = f"/api/v1/partners/{partner}/invitations/{invitation['id']}/qr-token"
    code = owner.ok("POST", url, 201, json={})["user_code"]
    ben = api.user("ben")
    for _ in range(10):
        assert ben.post(f"{MOBILE}/preview", json={"user_code": code}).status_code == 200
    assert_problem(ben.post(f"{MOBILE}/preview", json={"user_code": "BBBB-BBBB"}), 404, "not_found")


def test_typed_codes_are_unique_among_grants(api: Api, owner: Caller, partner: str) -> None:
    from db.tables import QRGrant

    assert QRGrant.user_code._meta.unique
    _, invitation = api.invited_client(owner, partner)
    url = f"/api/v1/partners/{partner}/invitations/{invitation['id']}/qr-token"
    codes = {owner.ok("POST", url, 201, json={})["user_code"] for _ in range(20)}
    assert len(codes) == 20


def _health_answers_within(server: LiveServer, user: Caller, seconds: float) -> None:
    started = time.monotonic()
    assert httpx.get(f"{server.base_url}/healthz", timeout=seconds).status_code == 200
    me = httpx.get(f"{server.base_url}/api/v1/me", headers=user.headers, timeout=seconds)
    assert me.status_code == 200
    assert time.monotonic() - started < seconds


PREVIEW_HEAD = (
    "POST /api/v1/mobile/invitations/preview HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    "Content-Type: application/json\r\nContent-Length: 1000\r\n{auth}\r\n{{"
)


async def _slow_bodies(port: int, count: int, auth: str, hold: float) -> list[bytes]:
    """`count` connections each sending headers and one byte of a 1,000-byte body, then a
    byte a second while unanswered, for `hold` seconds: the status line each got."""
    connections = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(PREVIEW_HEAD.format(auth=auth).encode())
        connections.append((reader, writer))

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
        deadline = time.monotonic() + hold + 5
        while time.monotonic() < deadline:
            try:
                return await asyncio.wait_for(reader.readline(), 1)
            except TimeoutError:
                writer.write(b" ")  # one more byte of the body
        return b""

    answers = await asyncio.gather(*(answer(r, w) for r, w in connections))
    for _, writer in connections:
        writer.close()
    return list(answers)


def _in_background(work: Any) -> tuple[Any, list[Any]]:
    import threading

    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(asyncio.run(work)))
    thread.start()
    return thread, result


def test_1100_slow_anonymous_bodies_leave_the_service_answering(
    api: Api, server: LiveServer
) -> None:
    user = api.user("ben")
    started = time.monotonic()
    thread, result = _in_background(_slow_bodies(server.port, 1100, "", hold=4))
    time.sleep(2.5)
    for _ in range(3):
        _health_answers_within(server, user, 1.0)
        time.sleep(0.3)
    thread.join(timeout=30)
    [answers] = result
    assert all(a.startswith(b"HTTP/1.1 401") for a in answers), {a[:12] for a in answers}
    assert time.monotonic() - started < 20


def test_a_signed_in_slow_body_is_cut_at_its_deadline(api: Api, server: LiveServer) -> None:
    user = api.user("ben")
    auth = f"Authorization: {user.headers['Authorization']}\r\n"
    started = time.monotonic()
    thread, result = _in_background(_slow_bodies(server.port, 50, auth, hold=4))
    time.sleep(1)
    _health_answers_within(server, user, 1.0)
    thread.join(timeout=30)
    [answers] = result
    # BODY_READ_SECONDS=2 (plus a second a 16 KiB) in this server: cut well before the end.
    assert all(a.startswith(b"HTTP/1.1 400") for a in answers), {a[:12] for a in answers}
    assert time.monotonic() - started < 15
    assert "Traceback" not in server.log()


async def _long_polls(
    base_url: str, headers: dict[str, str], url: str, count: int, answered: Any, checked: Any
) -> list[int]:
    """`count` polls (wait=20) at once; `answered` is set once all but the held ones are
    answered, and they are held until `checked` is set: each status (0: held)."""
    limits = httpx.Limits(max_connections=count + 10)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as http:
        polls = [
            asyncio.ensure_future(http.get(url, params={"wait": 20}, headers=headers))
            for _ in range(count)
        ]
        deadline = time.monotonic() + 15
        while sum(p.done() for p in polls) < count - HELD_PER_USER and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        answered.set()
        await asyncio.to_thread(checked.wait, 10)
        for poll in polls:
            poll.cancel()
        await asyncio.gather(*polls, return_exceptions=True)
        return [p.result().status_code if not p.cancelled() else 0 for p in polls]


HELD_PER_USER = 10  # the default cap


def test_1100_long_polls_leave_the_service_answering(
    api: Api, owner: Caller, partner: str, server: LiveServer
) -> None:
    import threading

    url = f"/api/v1/partners/{partner}/events"
    answered, checked = threading.Event(), threading.Event()
    started = time.monotonic()
    flood = _long_polls(server.base_url, owner.headers, url, 1100, answered, checked)
    thread, result = _in_background(flood)
    try:
        assert answered.wait(20)
        for _ in range(3):  # while the user's polls are held
            _health_answers_within(server, owner, 1.0)
            time.sleep(0.3)
    finally:
        checked.set()
        thread.join(timeout=30)
    [statuses] = result
    # The user's cap is held until cancelled; the rest answered 429 at once.
    assert statuses.count(0) == HELD_PER_USER, sorted(set(statuses))
    assert statuses.count(429) == 1100 - HELD_PER_USER
    assert time.monotonic() - started < 20
