"""PostgreSQL LISTEN for event notifications from other processes.

Each notification (`"<partner id> <newest cursor> <revision>"`, sent at commit by every
transaction that bumps a partner's revision) wakes this process's long-polls of that
partner at once and makes its cached answers of older revisions stale. If the connection
drops, it is opened again; meanwhile `EventBus.watch` keeps long-polls answered within a
second, and nothing is served from the revision caches (see api.services.revisions).
`listener_down_for()` says how long it has been away (readyz turns 503 after 5 s).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any
from uuid import UUID

import asyncpg

from api.metrics import LISTENER_CONNECTED
from api.services.bus import EventBus
from api.services.revisions import Revisions
from db.statements import NOTIFY_CHANNEL

log = logging.getLogger("api.events")
# Since when (time.monotonic) this process has had no listening connection; None while it
# has one. A process that never listens (SQLite, or a `worker`) stays at None.
_down_since: float | None = None


def listener_down_for() -> float:
    """Seconds since this process's listener lost (or has not yet had) its connection."""
    return 0.0 if _down_since is None else time.monotonic() - _down_since


def _connected(up: bool) -> None:
    global _down_since
    if up:
        _down_since = None
    elif _down_since is None:
        _down_since = time.monotonic()
    LISTENER_CONNECTED.set(1 if up else 0)


async def listen(
    database_url: str, bus: EventBus, revisions: Revisions, retry_after: float = 2.0
) -> None:
    def deliver(_connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            partner, newest, revision = payload.split(" ")
            partner_id = UUID(partner)
            # This process's own changes were published at their commit already, and
            # their revision was known before it (`partner_change`): publishing every
            # notification would wake those polls twice. A revision a list read before its
            # notification arrived is not news either; its polls are woken by
            # `EventBus.watch` within half a second.
            if revisions.changing(partner_id, int(revision)):
                bus.publish(partner_id, int(newest))
        except ValueError:
            log.warning("ignored a malformed event notification")

    _connected(False)
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
            _connected(False)
            if not closed.done():
                closed.set_result(None)

        connection.add_termination_listener(on_close)
        await connection.add_listener(NOTIFY_CHANNEL, deliver)
        revisions.forget()  # what was sent while nobody listened is lost
        revisions.trusted = True
        _connected(True)
        await closed
    finally:
        revisions.trusted = False
        _connected(False)
        if not connection.is_closed():
            await connection.close()
