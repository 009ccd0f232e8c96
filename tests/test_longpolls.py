"""Long-polls beyond their caps are answered before the route does any work for them;
anything the early answer does not recognise is left to the route."""

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.services import events
from api.services.bus import EventBus
from tests.conftest import start_server, stop_server
from tests.support import Api, Caller, assert_problem, until


@pytest.fixture(params=["per_user", "per_partner", "per_process"])
def capped(api: Api, request: pytest.FixtureRequest) -> Iterator[EventBus]:
    """The test app's bus while every user (or partner, or the process) is at its cap of
    held polls."""
    bus = api.ctx.bus
    caps = bus.caps
    bus.caps = caps._replace(**{request.param: 0})
    yield bus
    bus.caps = caps


def events_url(partner: str) -> str:
    return f"/api/v1/partners/{partner}/events"


def _route_must_not_run(*_: Any) -> None:
    raise AssertionError("the route read the events of a poll beyond the cap")


def test_a_poll_beyond_the_cap_is_refused_before_the_route(
    owner: Caller, partner: str, capped: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "page", _route_must_not_run)
    response = owner.get(events_url(partner), params={"wait": 20})
    assert_problem(response, 429, "rate_limited")
    assert response.headers["retry-after"] == "5"


def test_a_poll_beyond_the_cap_is_refused_whatever_partner_it_names(
    api: Api, owner: Caller, capped: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = api.partner(api.user(), "Other Accountants")
    owner.ok("GET", "/api/v1/me")  # the owner's token verified once, as a dashboard's is
    monkeypatch.setattr(events, "page", _route_must_not_run)
    assert_problem(owner.get(events_url(other), params={"wait": 1}), 429, "rate_limited")


def test_a_poll_from_a_token_not_seen_before_is_refused_by_the_route(
    api: Api, partner: str, capped: EventBus
) -> None:
    newcomer = api.user()
    response = newcomer.get(events_url(partner), params={"wait": 20})
    assert_problem(response, 429, "rate_limited")  # beyond the cap, whoever asks
    assert response.headers["retry-after"] == "5"


@pytest.mark.parametrize("wait", ["31", "abc", "-1", "1.5"])
def test_a_wait_out_of_range_is_400_even_beyond_the_cap(
    owner: Caller, partner: str, capped: EventBus, wait: str
) -> None:
    response = owner.get(events_url(partner), params={"wait": wait})
    assert_problem(response, 400, "validation_failed")


def test_a_poll_that_does_not_wait_is_answered_beyond_the_cap(
    owner: Caller, partner: str, capped: EventBus
) -> None:
    assert owner.get(events_url(partner), params={"wait": 0}).status_code == 200
    assert owner.get(events_url(partner)).status_code == 200


def test_a_stopping_server_answers_its_held_polls_at_once(owner: Caller, partner: str) -> None:
    """A worker lets its open requests finish before it stops: on SIGTERM a held poll is
    answered with what there is, so a restart does not wait out the polls' 25 s."""
    server = start_server()
    url = f"{server.base_url}{events_url(partner)}"
    cursor = httpx.get(url, params={"after": "latest"}, headers=owner.headers).json()["next_cursor"]
    answers: list[tuple[httpx.Response, float]] = []

    def poll() -> None:
        response = httpx.get(
            url, params={"after": cursor, "wait": 25}, headers=owner.headers, timeout=40
        )
        answers.append((response, time.monotonic()))

    polling = threading.Thread(target=poll)
    polling.start()
    until(lambda: "invites_longpolls_waiting 1.0" in httpx.get(f"{server.base_url}/metrics").text)
    signalled = time.monotonic()
    stop_server(server, within=10)
    polling.join(10)
    [(response, answered)] = answers
    assert response.status_code == 200
    assert response.json() == {"events": [], "next_cursor": cursor}
    assert answered - signalled < 10  # held for the rest of its 25 s before
