"""Partner events: paged by cursor, gap-free, and held (long-poll) until something happens."""

import contextlib
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from uuid import UUID

import httpx
import pytest
from litestar.testing import TestClient

from api.errors import AppError
from mobile_contract import EventType
from tests.conftest import LiveServer, start_server, stop_server
from tests.support import Api, Caller, assert_problem, until


@pytest.fixture(scope="module")
def live_server(test_client: TestClient[Any]) -> Iterator[LiveServer]:
    """A server whose caps of held polls let one user hold a few hundred."""
    server = start_server(LONGPOLLS_PER_USER="400", LONGPOLLS_PER_PARTNER="400")
    yield server
    stop_server(server)


def events_url(partner: str) -> str:
    return f"/api/v1/partners/{partner}/events"


def test_events_page_by_cursor(api: Api, owner: Caller, partner: str) -> None:
    for i in range(5):
        api.client_row(owner, partner, name=f"C{i}")
    first = owner.ok("GET", events_url(partner), params={"limit": 2})
    assert [e["cursor"] for e in first["events"]] == ["1", "2"]
    assert first["next_cursor"] == "2"
    rest = owner.ok("GET", events_url(partner), params={"after": first["next_cursor"], "limit": 10})
    assert [e["cursor"] for e in rest["events"]] == ["3", "4", "5"]
    assert all(e["type"] == "client.created" and e["client_id"] for e in rest["events"])
    empty = owner.ok("GET", events_url(partner), params={"after": rest["next_cursor"]})
    assert empty == {"events": [], "next_cursor": "5"}


@pytest.mark.parametrize(
    "params",
    [
        {"wait": 31},
        {"wait": -1},
        {"limit": 0},
        {"limit": 501},
        {"after": "abc"},
        {"after": "-1"},
        {"wait": "x"},
    ],
)
def test_events_query_is_validated(owner: Caller, partner: str, params: dict[str, Any]) -> None:
    assert_problem(owner.get(events_url(partner), params=params), 400, "validation_failed")


def test_an_empty_wait_is_held_for_wait_seconds(owner: Caller, partner: str) -> None:
    started = time.monotonic()
    page = owner.ok("GET", events_url(partner), params={"wait": 2})
    elapsed = time.monotonic() - started
    assert page == {"events": [], "next_cursor": "0"}
    assert 1.9 <= elapsed < 3.5


def held(
    caller: Caller, url: str, params: dict[str, Any]
) -> tuple[Future[tuple[Any, float]], ThreadPoolExecutor]:
    """Start a long-poll in a thread: (future of (body, when answered), its pool)."""

    def run() -> tuple[Any, float]:
        response = caller.get(url, params=params)
        return response.json(), time.monotonic()

    pool = ThreadPoolExecutor(max_workers=1)
    return pool.submit(run), pool


def test_a_long_poll_wakes_within_a_second_of_an_event(
    api: Api, owner: Caller, partner: str
) -> None:
    future, pool = held(owner, events_url(partner), {"wait": 20})
    time.sleep(0.5)
    made_at = time.monotonic()
    api.client_row(owner, partner, name="Wakes the poll")
    page, answered_at = future.result(timeout=10)
    pool.shutdown()
    assert [e["type"] for e in page["events"]] == ["client.created"]
    assert answered_at - made_at < 1.0


def test_a_change_made_by_another_process_wakes_the_poll(
    api: Api, owner: Caller, partner: str, live_server: LiveServer
) -> None:
    """The long-poll waits in this process; the event is written by the live server."""
    future, pool = held(owner, events_url(partner), {"wait": 20})
    time.sleep(0.5)
    with httpx.Client(base_url=live_server.base_url, headers=owner.headers) as other:
        made_at = time.monotonic()
        response = other.post(
            f"/api/v1/partners/{partner}/clients", json={"name": "From elsewhere"}
        )
        assert response.status_code == 201
    page, answered_at = future.result(timeout=10)
    pool.shutdown()
    assert [e["type"] for e in page["events"]] == ["client.created"]
    assert answered_at - made_at < 1.0


def cpu_seconds(process_group: int) -> float:
    """CPU time used so far by every process of a process group (Linux /proc)."""
    import os

    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == process_group:  # pgrp
            total += int(fields[11]) + int(fields[12])  # utime + stime
    return total / ticks


def rss_bytes(process_group: int) -> int:
    """Resident memory of every process of a process group (Linux /proc)."""
    import os

    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                pgrp = int(f.read().rsplit(")", 1)[1].split()[2])
            if pgrp != process_group:
                continue
            with open(f"/proc/{entry}/status") as f:
                total += next(
                    int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:")
                )
        except (OSError, StopIteration):
            continue
    return total


def waiting(server: LiveServer) -> float:
    """The long-polls the server says it holds (`invites_longpolls_waiting`)."""
    # Read while hundreds of polls arrive: on a busy machine the answer may take seconds.
    text = httpx.get(f"{server.base_url}/metrics", timeout=30).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("invites_longpolls_waiting")
    )


def test_hundreds_of_idle_polls_cost_no_cpu_and_little_memory(
    owner: Caller, partner: str, live_server: LiveServer
) -> None:
    import asyncio

    polls = 300
    results: list[int] = []

    async def poll_all() -> None:
        limits = httpx.Limits(max_connections=polls + 10)
        async with httpx.AsyncClient(
            base_url=live_server.base_url, headers=owner.headers, limits=limits, timeout=30
        ) as http:
            responses = await asyncio.gather(
                *(http.get(events_url(partner), params={"wait": 12}) for _ in range(polls))
            )
            results.extend(r.status_code for r in responses)

    group = live_server.process.pid
    memory_at_rest = rss_bytes(group)
    thread = threading.Thread(target=lambda: asyncio.run(poll_all()))
    thread.start()
    until(lambda: waiting(live_server) == polls, within=10)  # all are in and held
    time.sleep(0.5)
    before = cpu_seconds(group)
    time.sleep(2)
    used = cpu_seconds(group) - before
    extra_memory = rss_bytes(group) - memory_at_rest
    thread.join(timeout=30)
    assert results == [200] * polls
    assert used < 0.3, f"{used:.2f} s of CPU in 2 s while {polls} polls were idle"
    assert extra_memory < 30 * 2**20, f"{extra_memory / 2**20:.1f} MB more while {polls} polls wait"


def test_after_latest_starts_live_without_history(api: Api, owner: Caller, partner: str) -> None:
    for name in ("A", "B"):
        api.client_row(owner, partner, name=name)
    start = owner.ok("GET", events_url(partner), params={"after": "latest", "wait": 5})
    assert start == {"events": [], "next_cursor": "2"}
    future, pool = held(owner, events_url(partner), {"after": start["next_cursor"], "wait": 20})
    time.sleep(0.5)
    made_at = time.monotonic()
    api.client_row(owner, partner, name="C")
    page, answered_at = future.result(timeout=10)
    pool.shutdown()
    assert [(e["cursor"], e["type"]) for e in page["events"]] == [("3", "client.created")]
    assert answered_at - made_at < 1.0


def test_a_cursor_beyond_the_newest_is_refused(api: Api, owner: Caller, partner: str) -> None:
    api.client_row(owner, partner)
    response = owner.get(events_url(partner), params={"after": "2"})
    problem = assert_problem(response, 400, "validation_failed")
    assert problem["errors"][0]["field"] == "after"
    assert owner.ok("GET", events_url(partner), params={"after": "1"})["events"] == []


def test_the_schema_lists_every_event_type_and_its_data(api: Api) -> None:
    schema = api.http.get("/schema/openapi.json").json()
    event = schema["components"]["schemas"]["Event"]["properties"]
    type_schema = event["type"]
    if "$ref" in type_schema:
        type_schema = schema["components"]["schemas"][type_schema["$ref"].rsplit("/", 1)[1]]
    assert set(type_schema["enum"]) == {t.value for t in EventType}
    for event_type in EventType:
        assert f"`{event_type.value}`" in event["data"]["description"]


def test_long_polls_beyond_the_per_user_cap_are_refused_at_once(
    api: Api, owner: Caller, partner: str
) -> None:
    bus = api.ctx.bus
    caps = bus.caps
    url = f"/api/v1/partners/{partner}/events"
    with contextlib.ExitStack() as stack:
        for _ in range(caps.per_user):
            stack.enter_context(bus.hold(owner.sub, UUID(partner)))
        with pytest.raises(AppError) as refused:
            stack.enter_context(bus.hold(owner.sub, UUID(partner)))
        assert refused.value.code == "rate_limited" and refused.value.retry_after
        stack.enter_context(bus.hold("someone-else", UUID(partner)))  # another user may
    # What the route answers while the user holds its cap: nothing held, answered at once.
    bus.caps = caps._replace(per_user=0)
    try:
        started = time.monotonic()
        response = owner.get(url, params={"wait": 20})
        assert_problem(response, 429, "rate_limited")
        assert response.headers["retry-after"] == "5"
        assert time.monotonic() - started < 1
        assert owner.get(url, params={"wait": 0}).status_code == 200  # not held: no cap
    finally:
        bus.caps = caps
