"""One raw ASGI middleware per request: its request id, its log line and its metrics.

The request id is the caller's `X-Request-ID` when it is 1-64 of `A-Za-z0-9._-`,
otherwise a new one; it is echoed in the response and carried by every log line of the
request (`api.logs`). Metrics are labelled by the route's path template, never the raw
path.

Invitation tokens travel in paths (`/i/{token}`) and query strings (`?token=`); both are
replaced by `[redacted]` before anything is logged (`redact_path`, the one redaction
function, whatever the log format). Headers are never logged.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api import logs
from api.metrics import HTTP_DURATION, HTTP_REQUESTS

log = logging.getLogger("api.access")
_TOKEN_PATH = re.compile(r"^/i/[^/]+")
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._-]{1,64}")


def redact_path(path: str) -> str:
    return _TOKEN_PATH.sub("/i/[redacted]", path)


_series: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _count(method: str, route: str, status: int, seconds: float) -> None:
    """Count the request; the labelled series are looked up once per (method, route,
    status), which routes and statuses bound."""
    key = (method, route, status)
    series = _series.get(key)
    if series is None:
        series = _series[key] = (
            HTTP_REQUESTS.labels(method, route, str(status)),
            HTTP_DURATION.labels(method, route),
        )
    series[0].inc()
    series[1].observe(seconds)


def _request_id(scope: Scope) -> bytes:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            if _REQUEST_ID.fullmatch(value):
                return value
            break
    return secrets.token_hex(8).encode()


def access_log_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        status = 500  # what the request counts as if the app raises before answering

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id)]
            await send(message)

        rid = request_id.decode()
        token = logs.request_id.set(rid)
        try:
            await app(scope, receive, send_wrapper)
        finally:
            logs.request_id.reset(token)
            elapsed = time.perf_counter() - started
            method: str = scope["method"]  # type: ignore[typeddict-item]
            route: str = scope.get("path_template") or "unmatched"
            _count(method, route, status, elapsed)
            if log.isEnabledFor(logging.INFO):
                query = " ?[redacted]" if scope.get("query_string") else ""
                duration_ms = round(elapsed * 1000, 1)
                log.info(
                    "%s %s%s %s %.1fms",
                    method,
                    redact_path(scope["path"]),
                    query,
                    status,
                    duration_ms,
                    extra={
                        "method": method,
                        "route": route,
                        "status": status,
                        "duration_ms": duration_ms,
                        "request_id": rid,
                    },
                )

    return middleware
