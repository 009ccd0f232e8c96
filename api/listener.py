"""PostgreSQL LISTEN for event notifications from other processes.

Each notification (`"<partner id> <newest cursor>"`, sent by `events.record` at commit)
wakes this process's long-polls of that partner at once. If the connection drops, it is
opened again; meanwhile `EventBus.watch` keeps long-polls answered within a second.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import UUID

import asyncpg

from api.services.bus import EventBus
from api.services.events import NOTIFY_CHANNEL

log = logging.getLogger("api.events")


async def listen(database_url: str, bus: EventBus, retry_after: float = 2.0) -> None:
    def deliver(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
        partner, _, newest = payload.partition(" ")
        try:
            bus.publish(UUID(partner), int(newest))
        except ValueError:
            log.warning("ignored a malformed event notification")

    while True:
        try:
            await _listen_once(database_url, deliver)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("event listener: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(retry_after)


async def _listen_once(database_url: str, deliver: Any) -> None:
    """Listen until the connection ends."""
    connection = await asyncpg.connect(database_url)
    try:
        closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_close(_connection: Any) -> None:
            if not closed.done():
                closed.set_result(None)

        connection.add_termination_listener(on_close)
        await connection.add_listener(NOTIFY_CHANNEL, deliver)
        await closed
    finally:
        if not connection.is_closed():
            await connection.close()
