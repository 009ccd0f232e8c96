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
