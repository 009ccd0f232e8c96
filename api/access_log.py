"""One raw ASGI middleware per request: its request id, its log line and its metrics.

The request id is the caller's `X-Request-ID` when it is 1-64 of `A-Za-z0-9._-`,
otherwise a new one (this process's random prefix and a counter: unique, and no system
call per request); it is echoed in the response and carried by every log line of the
request (`api.logs`). Metrics are labelled by the route's path template, never the raw
path.

It wraps the whole app, routing included (`create_app`), so a request no route matched
(404, 405, a bad `Host`) is logged and counted too, as route `unmatched`; a method
outside HTTP's own counts as `OTHER` in the metrics, which keeps their series bounded
whatever a client sends.

The middleware only notes what it saw; `settle()` counts and logs the requests finished
since its last call, run every `SETTLE_SECONDS` by a thread (`settling()`, in the app's
lifespan) and by `/metrics` before it answers. So a request's line and counts cost the
event loop a tuple, and the thread takes the GIL a few times a second, not per request.

Invitation tokens travel in paths (`/i/{token}`) and query strings (`?token=`); both are
replaced by `[redacted]` before anything is logged (`redact_path`, the one redaction
function, whatever the log format), as is anything shaped like a token elsewhere in a
path no route matched. Headers are never logged.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api import logs
from api.metrics import HTTP_DURATION, HTTP_REQUESTS, observe_all

log = logging.getLogger("api.access")
# Anywhere in the path: one no route matched is logged as it came (`//i/…`, `/x/i/…`).
_TOKEN_PATH = re.compile(r"/i/[^/]+")
_JWT = re.compile(r"eyJ[\w-]*\.[\w-]*\.[\w-]*")  # a token pasted anywhere else
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


def redact_path(path: str) -> str:
    if "/i/" in path:
        path = _TOKEN_PATH.sub("/i/[redacted]", path)
    if "eyJ" in path:
        path = _JWT.sub("[redacted]", path)
    return path


_prefix = os.urandom(5).hex()
_numbers = itertools.count()


def _new_prefix() -> None:
    global _prefix
    _prefix = os.urandom(5).hex()


os.register_at_fork(after_in_child=_new_prefix)  # a forked worker numbers on its own


def _request_id(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            if _REQUEST_ID.fullmatch(value):
                return value
            break
    return f"{_prefix}{next(_numbers):x}".encode()


SETTLE_SECONDS = 0.1
METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
# (answered at, method, path, with a query string, route, status, seconds, request id)
Finished = tuple[float, str, str, bool, str, int, float, str]
_finished: deque[Finished] = deque()
_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}
_settling = threading.Lock()


def settle() -> None:
    """Count and log the requests finished since the last call: their lines in one
    `logs.Lines` record, their durations observed by (method, route, status) group, each
    series written once per call. One call at a time: `/metrics`, settling on the event
    loop, waits for the thread's batch to be counted, so a scrape sees every request this
    process answered before it (another worker's, once that worker settles)."""
    with _settling:
        _settle()


def _settle() -> None:
    info = log.isEnabledFor(logging.INFO)
    lines: list[logs.Entry] = []
    durations: dict[tuple[str, str, int], list[float]] = {}
    while _finished:
        at, method, path, query, route, status, seconds, rid = _finished.popleft()
        label = method if method in METHODS else "OTHER"
        durations.setdefault((label, route, status), []).append(seconds)
        if info:
            duration_ms = round(seconds * 1000, 1)
            query_mark = " ?[redacted]" if query else ""
            message = f"{method} {redact_path(path)}{query_mark} {status} {duration_ms:.1f}ms"
            fields = {
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": duration_ms,
                "request_id": rid,
            }
            lines.append((at, message, fields))
    if lines:
        log.handle(logs.Lines(log.name, lines))
    for key, amounts in durations.items():
        series = _series.get(key)
        if series is None:  # looked up once per (method, route, status): bounded
            method, route, status = key
            series = _series[key] = (
                HTTP_REQUESTS.labels(method, route, str(status)),
                HTTP_DURATION.labels(method, route),
            )
        series[0].inc(len(amounts))
        observe_all(series[1], amounts)


@contextmanager
def settling() -> Iterator[None]:
    """`settle()` every `SETTLE_SECONDS` in a thread, and once more at the end."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(SETTLE_SECONDS):
            settle()

    thread = threading.Thread(target=run, name="request-lines", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        settle()


def access_log_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        method: str = scope["method"]  # type: ignore[typeddict-item]  # as asked (HEAD stays HEAD)
        request_id = _request_id(scope)
        rid = request_id.decode()
        status = 500  # what the request counts as if the app raises before answering
        finished = False

        def finish() -> None:
            nonlocal finished
            finished = True
            _finished.append(
                (
                    time.time(),
                    method,
                    scope["path"],
                    bool(scope.get("query_string")),
                    scope.get("path_template") or "unmatched",
                    status,
                    time.perf_counter() - started,
                    rid,
                )
            )

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id)]
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finish()  # before the client can have the whole answer: a scrape or a log
                # read that follows it sees this request
            await send(message)

        token = logs.request_id.set(rid)
        try:
            await app(scope, receive, send_wrapper)
        finally:
            logs.request_id.reset(token)
            if not finished:  # no answer, or not a whole one
                finish()

    return middleware
