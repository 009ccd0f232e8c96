"""What every process role opens and closes: the PostgreSQL pool and the render processes."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import asynccontextmanager

from api.qr import init_render_process
from api.settings import Settings
from db.piccolo_conf import DB
from db.transactions import IS_POSTGRES

log = logging.getLogger("api")
POOL_CLOSE_GRACE = 5.0  # seconds that pooled connections in use get to come back


async def _no_session_state(_connection: object) -> None:
    """Pool connections come back as they went: this service sets no session state (no
    SET, LISTEN, advisory lock or cursor outside a transaction; its listener has a
    connection of its own), and asyncpg still rolls back a transaction left open. So the
    reset query asyncpg runs by default, a round trip on every release, is left out."""


def one_line(record: logging.LogRecord) -> bool:
    """A library's expected failure (asyncpg retrying its pool while the database is
    away) as one line with its reason, not a traceback: the outage is already answered
    (503) and reported by our own one-line warnings."""
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        record.msg = f"{record.getMessage()}: {type(error).__name__}: {error}"
        record.args = None
        record.exc_info = None
        record.exc_text = None
    return True


@asynccontextmanager
async def database_pool(settings: Settings) -> AsyncIterator[None]:
    """The PostgreSQL connection pool of this process (nothing to open on SQLite)."""
    if not IS_POSTGRES:
        yield
        return
    logging.getLogger("asyncpg.pool").addFilter(one_line)
    await DB.start_connection_pool(  # type: ignore[call-arg]
        min_size=1, max_size=settings.database_pool_size, reset=_no_session_state
    )
    try:
        yield
    finally:
        pool = DB.pool  # type: ignore[attr-defined]
        try:
            await asyncio.wait_for(pool.close(), POOL_CLOSE_GRACE)
        except TimeoutError:
            # A connection lost while the server restarted may never be handed back.
            log.warning("closing the database pool: connections still in use, terminating them")
            pool.terminate()
        DB.pool = None  # type: ignore[attr-defined]


@asynccontextmanager
async def render_processes() -> AsyncIterator[ProcessPoolExecutor]:
    """QR codes and emails are pure-Python CPU work: one render process per core keeps
    them off the event loop (emails are sent from there too, so that SMTP does not
    compete with requests either)."""
    executor = ProcessPoolExecutor(
        max_workers=os.cpu_count() or 1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_render_process,
    )
    try:
        yield executor
    finally:
        # Wait (off the loop) for the render processes to take their stop signal; left to
        # interpreter exit, the executor's queue thread may be gone and the exit hangs.
        await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
