"""`GET /metrics`: the token rule, every name of the contract, counts summed over the
workers of one `serve`, and never a token or an email address in the text."""

from __future__ import annotations

import re
from typing import Any

import httpx
import msgspec
from litestar.testing import TestClient

from api import metrics
from api.app import create_app
from api.settings import Settings
from tests.conftest import METRICS_TOKEN, LiveServer
from tests.support import Api, token_of, until

CONTRACT_NAMES = (
    "http_requests_total",
    "http_request_duration_seconds",
    "invites_events_total",
    "invites_mail_outbox_pending",
    "invites_mail_outbox_oldest_pending_age_seconds",
    "invites_mail_sent_total",
    "invites_mail_failed_total",
    "invites_webhook_deliveries_total",
    "invites_webhook_pending",
    "invites_longpolls_waiting",
    "invites_listener_connected",
)
AUTHORIZED = {"Authorization": f"Bearer {METRICS_TOKEN}"}


def scrape(server: LiveServer) -> str:
    response = httpx.get(f"{server.base_url}/metrics", headers=AUTHORIZED, timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == metrics.CONTENT_TYPE  # one charset
    return response.text


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one series (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    series = f"{name}{{{wanted}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_answer_only_with_the_token_when_one_is_set(json_server: LiveServer) -> None:
    url = f"{json_server.base_url}/metrics"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer wrong-token"}).status_code == 401
    assert httpx.get(url, headers=AUTHORIZED).status_code == 200


def test_without_a_token_metrics_are_open_in_dev(live_server: LiveServer) -> None:
    # A real process: answering reads the database, whose pool lives on another loop
    # than a second test client's.
    assert httpx.get(f"{live_server.base_url}/metrics").status_code == 200


def test_without_a_token_metrics_are_hidden_in_prod(settings: Settings) -> None:
    key = "a-webhook-secret-key-of-32-chars!"  # prod needs one
    prod = msgspec.structs.replace(settings, app_env="prod", webhook_secret_key=key)
    http = TestClient(create_app(prod))  # not started: answered before any database use
    assert http.get("/metrics").status_code == 404


def test_every_contract_metric_is_exposed(json_server: LiveServer) -> None:
    text = scrape(json_server)
    for name in CONTRACT_NAMES:
        assert re.search(rf"^{name}(_bucket)?[{{ ]", text, re.MULTILINE), name


def test_counts_are_summed_over_the_workers_of_one_serve(json_server: LiveServer) -> None:
    before = sample(
        scrape(json_server), "http_requests_total", method="GET", route="/readyz", status="200"
    )
    for _ in range(40):  # a new connection each time: granian spreads them over its workers
        assert httpx.get(f"{json_server.base_url}/readyz").status_code == 200

    def counted() -> str:  # another worker settles its requests within SETTLE_SECONDS
        text = scrape(json_server)
        total = sample(text, "http_requests_total", method="GET", route="/readyz", status="200")
        assert total <= before + 40
        return text if total == before + 40 else ""

    after = until(counted, within=5)
    assert sample(after, "http_request_duration_seconds_count", method="GET", route="/readyz") >= 40


def test_unmatched_requests_are_counted_with_bounded_labels(json_server: LiveServer) -> None:
    """Requests no route answers are counted as route `unmatched`; a method HTTP does not
    define counts as `OTHER`, so what a client sends cannot add series without end."""
    series = {
        ("GET", "/no-such-page"): dict(method="GET", route="unmatched", status="404"),
        ("BREW", "/healthz"): dict(method="OTHER", route="unmatched", status="405"),
        ("HEAD", "/healthz"): dict(method="HEAD", route="/healthz", status="200"),
    }
    before = scrape(json_server)
    counts = {
        key: sample(before, "http_requests_total", **labels) for key, labels in series.items()
    }
    with httpx.Client(base_url=json_server.base_url) as http:
        for method, path in series:
            assert http.request(method, path).status_code == int(series[method, path]["status"])

    def counted() -> str:  # the worker settles its requests within SETTLE_SECONDS
        text = scrape(json_server)
        now = {key: sample(text, "http_requests_total", **labels) for key, labels in series.items()}
        return text if all(now[key] == counts[key] + 1 for key in series) else ""

    text = until(counted, within=5)
    assert 'method="BREW"' not in text


def test_no_token_or_email_address_reaches_the_metrics(api: Api, json_server: LiveServer) -> None:
    owner = api.user("metrics-owner")
    partner = api.partner(owner)
    _, invitation = api.invited_client(owner, partner, email="metrics-client@bakery.example")
    token = token_of(invitation)
    with httpx.Client(base_url=json_server.base_url) as http:
        assert http.get(f"/i/{token}").status_code == 200
        assert http.get(f"/i/{token}/qr.png").status_code == 200
        assert http.get(f"/i/{token}xx/qr.svg").status_code == 400
        assert (
            http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
        )
    answered = [
        'route="/i/{token}",status="200"',
        'route="/i/{token}/qr.png",status="200"',
        'route="/i/{token}/qr.svg",status="400"',
        'route="/api/v1/me",status="401"',
    ]

    def counted() -> str:  # each worker settles its requests within SETTLE_SECONDS
        text = scrape(json_server)
        return text if all(series in text for series in answered) else ""

    text = until(counted, within=5)
    assert token not in text and token.split(".")[-1] not in text
    assert "@" not in text


def test_a_scrape_waits_for_the_batch_the_thread_is_counting() -> None:
    """`settle()` runs in the request-lines thread and, for `/metrics`, on the event loop.
    A call that finds another holding a batch it has not counted yet waits for it."""
    import asyncio
    import logging
    import threading

    from prometheus_client import REGISTRY

    from api import access_log

    route = "/settle-race/{n}"
    scope = {"type": "http", "method": "GET", "path": "/settle-race/1", "path_template": route}
    taken, release = threading.Event(), threading.Event()

    class Held(logging.Handler):  # holds whoever took the request before it counts it
        def emit(self, record: logging.LogRecord) -> None:
            if "/settle-race/1" in record.getMessage():
                taken.set()
                release.wait(10)

    async def answer(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def sent(message: Any) -> None:
        pass

    scraped: list[float | None] = []

    def scrape() -> None:
        access_log.settle()
        labels = {"method": "GET", "route": route, "status": "204"}
        scraped.append(REGISTRY.get_sample_value("http_requests_total", labels))

    held, access = Held(), logging.getLogger("api.access")
    level = access.level
    access.addHandler(held)
    access.setLevel(logging.INFO)
    try:
        middleware = access_log.access_log_middleware(answer)
        asyncio.run(middleware(scope | {"headers": []}, sent, sent))  # type: ignore[arg-type]
        threading.Thread(target=access_log.settle).start()  # or an app's own thread takes it
        assert taken.wait(10)
        scraping = threading.Thread(target=scrape)
        scraping.start()
        scraping.join(0.3)
        assert scraping.is_alive()  # waiting for the batch
        release.set()
        scraping.join(10)
    finally:
        access.removeHandler(held)
        access.setLevel(level)
        release.set()
    assert scraped == [1.0]


def test_events_are_counted_by_type(api: Api, test_client: TestClient[Any]) -> None:
    """In this process (no multi-process directory), after the commit of each change."""

    def count(event_type: str) -> float:
        return sample(test_client.get("/metrics").text, "invites_events_total", type=event_type)

    created = count("client.created")
    owner = api.user()
    partner = api.partner(owner)
    api.client_row(owner, partner)
    api.client_row(owner, partner, email="other@bakery.example")
    assert count("client.created") == created + 2


def test_observing_a_batch_writes_what_observing_one_by_one_writes() -> None:
    from prometheus_client import CollectorRegistry, Histogram, generate_latest

    from api.metrics import observe_all

    buckets = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
    amounts = [0.0, 0.001, 0.0010001, 0.0025, 0.003, 0.049, 0.05, 7.5, 60, 61, 1e9] * 3
    exposed = []
    for batched in (False, True):
        registry = CollectorRegistry()
        histogram = Histogram("h", "h", ["route"], buckets=buckets, registry=registry)
        series = histogram.labels("/r")
        if batched:
            observe_all(series, amounts)
        else:
            for amount in amounts:
                series.observe(amount)
        exposed.append(generate_latest(registry))
    assert exposed[1] == exposed[0]
    assert b'h_bucket{le="0.001",route="/r"} 6.0' in exposed[1]
