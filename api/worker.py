"""`python -m api worker`: the background role alone, with no public HTTP.

It runs every loop of `api.background` until SIGTERM (or SIGINT), then stops taking work
and finishes or hands back what it holds (`background.STOP_GRACE`) before it exits.
With `--metrics-port` it also answers `GET /metrics` (and nothing else) on that port,
under the same token rule as the web processes.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from api import background, metrics
from api.process import database_pool, render_processes
from api.services.context import Context
from api.settings import Settings

log = logging.getLogger("api.worker")
REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}


async def run_worker(settings: Settings, metrics_host: str, metrics_port: int | None) -> None:
    ctx = Context.from_settings(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with database_pool(settings), render_processes() as renderer:
        server = None
        if metrics_port is not None:
            server = await asyncio.start_server(
                lambda r, w: _answer_metrics(settings, r, w), metrics_host, metrics_port
            )
        log.info("worker started: %s", ", ".join(f.__name__ for f in background.LOOPS))
        async with background.running(ctx, renderer):
            await stop.wait()
            log.info("worker stopping: finishing the work in hand")
        if server is not None:
            server.close()
    log.info("worker stopped")


async def _answer_metrics(
    settings: Settings, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """A minimal HTTP/1.1 answer: the metrics on `GET /metrics`, an error otherwise."""
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        status = 404
        if method == "GET" and target.partition("?")[0] == "/metrics":
            status = metrics.metrics_access(settings, headers.get("authorization"))
        if status == 200:
            await background.measure()
            body, content_type = metrics.exposition(), metrics.CONTENT_TYPE
        else:
            body, content_type = REASONS[status].encode() + b"\n", "text/plain"
    except (TimeoutError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        status, body, content_type = 400, b"Bad Request\n", "text/plain"
    try:
        writer.write(
            f"HTTP/1.1 {status} {REASONS[status]}\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()
