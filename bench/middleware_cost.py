"""The per-request cost of the request middleware (request id, log line, metrics): one
ASGI request through it against the same request without it, in this process, then the
work the `request-lines` thread does for it (`settle()`: counting and the log record)
and the log writer's (formatting the JSON line).

    PROMETHEUS_MULTIPROC_DIR=$(mktemp -d) .venv/bin/python -m bench.middleware_cost
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

from api import access_log, logs

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


def per_line(work: Any) -> float:
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) / N * 1e6


def main() -> None:
    buffer = logs.BatchedHandler()  # no writer thread: its work is timed below
    logging.getLogger().addHandler(buffer)
    logging.getLogger().setLevel(logging.INFO)
    output = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115
    output.setFormatter(logs.JsonFormatter())
    without = asyncio.run(per_request(bare))
    with_it = asyncio.run(per_request(access_log.access_log_middleware(bare)))
    print(f"without middleware: {without:.1f} µs/request")
    print(f"with it: {with_it:.1f} µs/request")
    print(f"cost on the event loop: {with_it - without:.1f} µs/request")
    print(f"off the loop, counting and the record: {per_line(access_log.settle):.1f} µs/request")
    print(f"off the loop, the JSON line: {per_line(lambda: buffer.write(output)):.1f} µs/request")


if __name__ == "__main__":
    main()
