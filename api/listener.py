"""PostgreSQL LISTEN for event notifications from other processes.

Each notification (`"<partner id> <newest cursor> <revision>"`, sent at commit by every
transaction that bumps a partner's revision) wakes this process's long-polls of that
partner at once and makes its cached answers of older revisions stale. If the connection
drops, it is opened again; meanwhile `EventBus.watch` keeps long-polls answered within a
second, and nothing is served from the revision caches (see api.services.revisions).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from uuid import UUID

import asyncpg

from api.services.bus import EventBus
from api.services.revisions import Revisions
from db.statements import NOTIFY_CHANNEL

log = logging.getLogger("api.events")


async def listen(
    database_url: str, bus: EventBus, revisions: Revisions, retry_after: float = 2.0
) -> None:
    def deliver(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            partner, newest, revision = payload.split(" ")
            partner_id = UUID(partner)
            # This process's own changes were published at their commit already.
            if revisions.changing(partner_id, int(revision)):
                bus.publish(partner_id, int(newest))
        except ValueError:
            log.warning("ignored a malformed event notification")

    while True:
        try:
            await _listen_once(database_url, deliver, revisions)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("event listener: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(retry_after)


async def _listen_once(database_url: str, deliver: Any, revisions: Revisions) -> None:
    """Listen until the connection ends; the revision caches are trusted meanwhile."""
    connection = await asyncpg.connect(database_url)
    try:
        closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_close(_connection: Any) -> None:
            revisions.trusted = False
            if not closed.done():
                closed.set_result(None)

        connection.add_termination_listener(on_close)
        await connection.add_listener(NOTIFY_CHANNEL, deliver)
        revisions.forget()  # what was sent while nobody listened is lost
        revisions.trusted = True
        await closed
    finally:
        revisions.trusted = False
        if not connection.is_closed():
            await connection.close()
