"""Reading a partner's events: every state change of its clients, numbered per partner
without gaps.

They are written by the unit of work (`api.services.changes`), which takes their numbers
from the partner row (`event_seq`) in the writing transaction, locking that row on
PostgreSQL until commit: events of one partner commit in cursor order, and a reader never
moves past one that is still to commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any
from uuid import UUID

import msgspec

from api.errors import invalid
from api.services.access import member_of
from api.services.context import Context
from api.services.views import from_row
from db.tables import Event, Partner
from mobile_contract import models

LATEST = "latest"


def parse_cursor(value: str | None) -> int | None:
    """The cursor to read after (its form checked by the route: digits or `latest`); None
    for `latest` (the partner's newest)."""
    if value is None:
        return 0
    return None if value == LATEST else int(value)


async def _read(partner_id: UUID, after: int, limit: int) -> list[models.Event]:
    rows = (
        await Event.select()
        .where((Event.partner == partner_id) & (Event.seq > after))
        .order_by(Event.seq)
        .limit(limit)
    )
    return [
        from_row(models.Event, r, cursor=str(r["seq"]), data=event_data(r["data"])) for r in rows
    ]


def event_data(value: Any) -> dict[str, Any]:
    """An event's `data` as stored: JSON text on SQLite, a dict on PostgreSQL."""
    if isinstance(value, str):
        decoded = msgspec.json.decode(value)
        return decoded if isinstance(decoded, dict) else {}
    return value if isinstance(value, dict) else {}


async def page(
    ctx: Context, user: models.User, partner_id: UUID, after: int | None, limit: int, wait: int
) -> models.EventPage:
    """Events after `after`; with `wait`, hold until one exists or `wait` seconds pass
    (within the caps of held polls: `EventBus.hold`).
    `after` None (`latest`): an empty page at once, whose cursor is the newest; a cursor
    beyond the newest was not given by this endpoint."""
    # The caps first: a poll beyond them costs no query.
    holding = ctx.bus.hold(user.sub, partner_id) if wait > 0 else contextlib.nullcontext()
    with holding:
        await member_of(user, partner_id)
        newest = (await newest_cursors([partner_id])).get(partner_id, 0)
        if after is None:
            return models.EventPage(events=[], next_cursor=str(newest))
        if after > newest:
            raise invalid(
                "after", f"beyond the newest event ({newest}); use a cursor from this feed"
            )
        events = await _wait_for(ctx, partner_id, after, limit, wait)
    next_cursor = events[-1].cursor if events else str(after)
    return models.EventPage(events=events, next_cursor=next_cursor)


async def _wait_for(
    ctx: Context, partner_id: UUID, after: int, limit: int, wait: int
) -> list[models.Event]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        with ctx.bus.subscribe(partner_id, after) as woken:
            events = await _read(partner_id, after, limit)
            remaining = deadline - loop.time()
            if events or remaining <= 0:
                return events
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken, remaining)
        if ctx.bus.stopping:  # answered as it stands, without another read: the process goes
            return []


async def newest_cursors(partner_ids: list[UUID]) -> dict[UUID, int]:
    """The newest event cursor of each partner."""
    rows = await Partner.select(Partner.id, Partner.event_seq).where(Partner.id.is_in(partner_ids))
    return {r["id"]: r["event_seq"] for r in rows}


async def newest_revisions(partner_ids: list[UUID]) -> dict[UUID, int]:
    rows = await Partner.select(Partner.id, Partner.revision).where(Partner.id.is_in(partner_ids))
    return {r["id"]: r["revision"] for r in rows}
