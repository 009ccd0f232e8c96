"""Invitation emails per partner and day: capped (lower in a partner's first week),
counted atomically, 429 beyond the cap."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from litestar.testing import TestClient

from tests.conftest import LiveServer, Runner
from tests.support import Api, Caller, assert_problem, established


def _clients(owner: Caller, partner: str, count: int) -> list[str]:
    rows = [{"name": f"C{i}", "email": f"c{i}@client.example"} for i in range(count)]
    body = owner.ok("POST", f"/api/v1/partners/{partner}/clients/import", json={"clients": rows})
    return [r["client"]["id"] for r in body["results"]]


def _caps(test_client: TestClient[Any]) -> tuple[int, int]:
    settings = test_client.app.state.settings
    return settings.invites_per_new_partner_per_day, settings.invites_per_partner_per_day


def test_a_new_partner_sends_fewer_invitations_a_day(
    api: Api, owner: Caller, partner: str, test_client: TestClient[Any]
) -> None:
    new_cap, _ = _caps(test_client)
    ids = _clients(owner, partner, new_cap + 1)
    url = f"/api/v1/partners/{partner}/invitations"
    response = owner.post(url, json={"client_ids": ids})
    problem = assert_problem(response, 429, "rate_limited")
    assert problem["detail"] == (
        f"This partner may send {new_cap} invitations a day in its first week;"
        f" send these {new_cap + 1} in parts of at most {new_cap}."
    )  # a batch larger than the cap never fits, tomorrow neither
    assert 0 < int(response.headers["retry-after"]) <= 86400
    # Nothing was invited; what fits goes out.
    assert owner.post(url, json={"client_ids": ids[:new_cap]}).status_code == 200
    response = owner.post(url, json={"client_ids": ids[new_cap:]})
    assert assert_problem(response, 429, "rate_limited")["detail"] == (
        f"This partner may send {new_cap} invitations a day in its first week; 0 remain today."
    )


def test_invitations_without_email_are_not_counted(
    api: Api, owner: Caller, partner: str, test_client: TestClient[Any]
) -> None:
    new_cap, _ = _caps(test_client)
    ids = _clients(owner, partner, new_cap + 1)
    url = f"/api/v1/partners/{partner}/invitations"
    assert owner.post(url, json={"client_ids": ids, "send_email": False}).status_code == 200


async def _bulk(base_url: str, headers: dict[str, str], url: str, batches: list[list[str]]) -> Any:
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60) as http:
        return await asyncio.gather(*(http.post(url, json={"client_ids": b}) for b in batches))


def test_the_daily_cap_holds_under_concurrent_bulk_invites(
    api: Api,
    db: Runner,
    owner: Caller,
    partner: str,
    test_client: TestClient[Any],
    live_server: LiveServer,
) -> None:
    new_cap, _ = _caps(test_client)
    ids = _clients(owner, partner, new_cap * 2)
    batches = [ids[i : i + new_cap // 4] for i in range(0, len(ids), new_cap // 4)]
    url = f"/api/v1/partners/{partner}/invitations"
    # Eight bulk invites at once through a server process, each a quarter of the cap.
    responses = asyncio.run(_bulk(live_server.base_url, owner.headers, url, batches))
    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 429, 503}, statuses
    invited = owner.ok("GET", f"/api/v1/partners/{partner}/clients", params={"limit": 500})
    count = sum(1 for c in invited["items"] if c["status"] == "invited")
    assert count == new_cap
    assert statuses.count(200) == 4


def test_an_established_partner_has_the_larger_cap(
    api: Api, db: Runner, owner: Caller, partner: str, test_client: TestClient[Any]
) -> None:
    new_cap, cap = _caps(test_client)
    established(db, partner)
    ids = _clients(owner, partner, new_cap + 1)
    assert owner.post(
        f"/api/v1/partners/{partner}/invitations", json={"client_ids": ids}
    ).is_success
    assert cap > new_cap
