"""The per-request cost of the request middleware (request id, JSON log line, metrics):
one ASGI request through it against the same request without it, in this process.

    PROMETHEUS_MULTIPROC_DIR=$(mktemp -d) .venv/bin/python -m bench.middleware_cost 2>/dev/null

(stderr, where the log lines go, is the listener thread's work, not the loop's.)
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from api.access_log import access_log_middleware
from api.logs import configure_logging
from api.settings import load_settings

N = 50_000


async def bare(scope: Any, receive: Any, send: Any) -> None:
    scope["path_template"] = "/healthz"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def per_request(app: Any) -> float:
    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    async def send(_message: Any) -> None:
        return None

    started = time.perf_counter()
    for _ in range(N):
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/healthz",
            "headers": [],
            "query_string": b"",
        }
        await app(scope, receive, send)
    return (time.perf_counter() - started) / N * 1e6


def main() -> None:
    configure_logging(load_settings({"LOG_FORMAT": "json"}))
    without = asyncio.run(per_request(bare))
    with_logging = asyncio.run(per_request(access_log_middleware(bare)))
    print(f"without middleware: {without:.1f} µs/request")
    print(f"with it (JSON log line queued, metrics): {with_logging:.1f} µs/request")
    print(f"cost on the event loop: {with_logging - without:.1f} µs/request")


if __name__ == "__main__":
    main()
