"""A one-line-per-request access log that never writes a token.

Invitation tokens travel in paths (`/i/{token}`) and query strings (`?token=`); both are
replaced by `[redacted]` before anything is logged. Headers are never logged.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from litestar.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("api.access")
_TOKEN_PATH = re.compile(r"^/i/[^/]+")


def redact_path(path: str) -> str:
    return _TOKEN_PATH.sub("/i/[redacted]", path)


def access_log_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        status: dict[str, Any] = {"code": 0}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_wrapper)
        finally:
            if log.isEnabledFor(logging.INFO):
                query = " ?[redacted]" if scope.get("query_string") else ""
                log.info(
                    "%s %s%s %s %.1fms",
                    scope.get("method"),
                    redact_path(scope["path"]),
                    query,
                    status["code"],
                    (time.perf_counter() - started) * 1000,
                )

    return middleware
