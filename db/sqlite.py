"""Piccolo's SQLite engine, with a bound on connections open at once.

Piccolo opens a new SQLite connection (and aiosqlite a thread) for every query run
outside a transaction. A burst of requests, such as hundreds of dashboards starting a
long-poll together, would open hundreds at once, each with its own page cache: tens of
megabytes that the process keeps afterwards. Queuing those queries behind a few
connections costs nothing noticeable, as SQLite serves one file from one disk anyway.
"""

from __future__ import annotations

import asyncio
from typing import Any

from piccolo.engine.sqlite import SQLiteEngine

MAX_CONNECTIONS = 8


class BoundedSQLiteEngine(SQLiteEngine):
    def __init__(self, *args: Any, max_connections: int = MAX_CONNECTIONS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._max_connections = max_connections
        self._slots: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    def _slot(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            # One semaphore per event loop (tests and CLI commands run several loops).
            self._slots = {lp: s for lp, s in self._slots.items() if not lp.is_closed()}
            slots = self._slots[loop] = asyncio.Semaphore(self._max_connections)
        return slots

    async def _run_in_new_connection(self, *args: Any, **kwargs: Any) -> Any:
        async with self._slot():
            return await super()._run_in_new_connection(*args, **kwargs)
