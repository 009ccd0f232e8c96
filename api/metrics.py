"""Every Prometheus metric of the service, declared once, and the `/metrics` text.

Counts are kept per process. Under `serve --workers N` the processes share a directory
(`PROMETHEUS_MULTIPROC_DIR`, set by the `serve` command before any worker imports
`prometheus_client`), and `/metrics` sums them with `MultiProcessCollector`; so every
gauge states how its per-process values combine (`multiprocess_mode`). Gauges that
describe the shared database (the outbox) take the most recent value any process wrote;
gauges of one process's own state are summed (or, for the listener, the lowest wins: 0
as soon as one process has lost it) over live processes.

`route` labels are path templates (`/i/{token:str}`), never raw paths, so no token ever
reaches a metric.
"""

from __future__ import annotations

import hmac
import os
import shutil
from bisect import bisect_left
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client import multiprocess as _multiprocess

from api.settings import Settings
from mobile_contract import EventType

disable_created_metrics()  # no `*_created` series: Prometheus does not need them
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST

HTTP_REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


def observe_all(series: Any, amounts: Sequence[float]) -> None:
    """`series.observe(a)` for every `a` of `amounts` (a labelled child of a `Histogram`),
    writing each bucket and the sum once: prometheus_client writes them per observation,
    a lock and a write to a shared file each. It reaches into the child's `_upper_bounds`,
    `_buckets` and `_sum`; tests/test_metrics.py proves the exposition equal to observing
    one by one, so a change in the library shows there."""
    bounds = series._upper_bounds
    counts = [0] * len(bounds)
    for amount in amounts:
        counts[bisect_left(bounds, amount)] += 1  # the first bound >= amount (the last is +Inf)
    series._sum.inc(sum(amounts))
    for bucket, count in zip(series._buckets, counts, strict=True):
        if count:
            bucket.inc(count)


EVENTS = Counter("invites_events_total", "Partner events recorded", ["type"])
MAIL_PENDING = Gauge(
    "invites_mail_outbox_pending", "Emails queued, not yet sent", multiprocess_mode="mostrecent"
)
MAIL_OLDEST_AGE = Gauge(
    "invites_mail_outbox_oldest_pending_age_seconds",
    "Age of the oldest queued email (0 when none is queued)",
    multiprocess_mode="mostrecent",
)
MAIL_SENT = Counter("invites_mail_sent_total", "Emails accepted by the mail server")
MAIL_FAILED = Counter("invites_mail_failed_total", "Emails given up on")
WEBHOOK_DELIVERIES = Counter(
    "invites_webhook_deliveries_total", "Webhook delivery attempts by outcome", ["outcome"]
)
WEBHOOK_PENDING = Gauge(
    "invites_webhook_pending", "Webhook deliveries not yet settled", multiprocess_mode="mostrecent"
)
LONGPOLLS_WAITING = Gauge(
    "invites_longpolls_waiting", "Long-polls waiting for events", multiprocess_mode="livesum"
)
LONGPOLLS_CAP = Gauge(
    "invites_longpolls_cap",
    "Long-polls held at most at once (the per-process cap, summed over the processes)",
    multiprocess_mode="livesum",
)
LONGPOLLS_REFUSED = Counter(
    "invites_longpolls_refused_total", "Long-polls answered 429 at once: a cap was reached"
)
LISTENER_CONNECTED = Gauge(
    "invites_listener_connected",
    "1 while the PostgreSQL change listener is connected (0 if any process's is not)",
    multiprocess_mode="livemin",
)

# Label values known in advance are shown (at 0) before anything happens.
for _type in EventType:
    EVENTS.labels(_type.value)
for _outcome in ("delivered", "retry", "failed"):
    WEBHOOK_DELIVERIES.labels(_outcome)


def prepare_multiprocess_dir() -> None:
    """Empty this `serve`'s metrics directory (`PROMETHEUS_MULTIPROC_DIR`) before its
    workers start: counts of an earlier run, or of this process, must not be summed."""
    path = Path(os.environ[MULTIPROC_ENV])
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.glob("*.db"):
        entry.unlink()


def remove_multiprocess_dir(var_dir: str) -> None:
    """Delete the directory `serve` made for itself under `var_dir` (not an operator's)."""
    path = Path(var_dir) / "metrics" / str(os.getpid())
    if os.environ.get(MULTIPROC_ENV) == str(path):
        shutil.rmtree(path, ignore_errors=True)


def process_ended() -> None:
    """Drop this process's `live*` gauges from the sums (it is shutting down)."""
    if os.environ.get(MULTIPROC_ENV):
        _multiprocess.mark_process_dead(os.getpid())


def exposition() -> bytes:
    """The Prometheus text of every process of this `serve` (or of this process)."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
    return generate_latest()


def metrics_access(settings: Settings, authorization: str | None) -> int:
    """The status `/metrics` answers: 200, 401 (token set, not given) or 404 (prod, no
    token configured)."""
    if settings.metrics_token:
        expected = f"Bearer {settings.metrics_token}"
        return (
            200 if hmac.compare_digest((authorization or "").encode(), expected.encode()) else 401
        )
    return 200 if settings.app_env == "dev" else 404
