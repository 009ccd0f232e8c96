"""Events: every state change of a partner's clients, numbered per partner without gaps.

`record()` runs inside the writing transaction: it takes the next numbers from the
partner row (`event_seq`), which also locks that row on PostgreSQL until commit, so
events of one partner commit in cursor order and a reader never moves past one that
is still to commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from api.errors import invalid
from api.services.access import require_partner_member
from api.services.context import Context, utcnow
from api.services.revisions import revisions
from db import sql
from db.tables import Event, Partner
from mobile_contract import models

NOTIFY_CHANNEL = "invites_events"


class NewEvent(msgspec.Struct, kw_only=True):
    type: str
    client: UUID | None = None
    invitation: UUID | None = None
    link: UUID | None = None
    data: dict[str, Any] = msgspec.field(default_factory=dict)


EVENT_COLUMNS = ("partner", "seq", "type", "at", "client", "invitation", "link", "data")

# Takes event numbers and a new revision; on PostgreSQL the same statement sends the
# notification, delivered at commit to every process listening (see api.listener).
BUMP = sql.Statement(
    "UPDATE partner SET event_seq = event_seq + {}, revision = revision + 1"
    " WHERE id = {} RETURNING event_seq, revision",
    postgres="UPDATE partner SET event_seq = event_seq + {}, revision = revision + 1"
    " WHERE id = {} RETURNING event_seq, revision,"
    f" pg_notify('{NOTIFY_CHANNEL}', id::text || ' ' || event_seq || ' ' || revision)",
)


async def record(partner_id: UUID, events: list[NewEvent], at: datetime | None = None) -> None:
    """Write `events` for `partner_id`; call inside the use case's transaction."""
    if not events:
        return
    at = at or utcnow()
    first = await _bump(partner_id, len(events)) - len(events) + 1
    rows = [
        (
            partner_id,
            seq,
            e.type,
            at,
            e.client,
            e.invitation,
            e.link,
            msgspec.json.encode(e.data).decode(),
        )
        for seq, e in enumerate(events, first)
    ]
    await sql.insert("event", EVENT_COLUMNS, rows)


async def touch(partner_id: UUID) -> None:
    """Say that what the partner's lists show changed, where no event says so (a client's
    details were edited); call inside the use case's transaction."""
    await _bump(partner_id, 0)


async def _bump(partner_id: UUID, count: int) -> int:
    """Take `count` event numbers and a new revision of the partner; the newest cursor."""
    row = await sql.fetch_one(BUMP, count, partner_id)
    assert row is not None, f"no partner {partner_id}"
    revisions.changing(partner_id, row["revision"])
    return int(row["event_seq"])


def parse_cursor(value: str | None) -> int:
    if value is None or value == "":
        return 0
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise invalid("after", "not a cursor returned by this endpoint")
    return int(value)


async def _read(partner_id: UUID, after: int, limit: int) -> list[models.Event]:
    rows = (
        await Event.select()
        .where((Event.partner == partner_id) & (Event.seq > after))
        .order_by(Event.seq)
        .limit(limit)
    )
    return [
        models.Event(
            cursor=str(r["seq"]),
            type=r["type"],
            at=r["at"],
            client_id=r["client"],
            invitation_id=r["invitation"],
            link_id=r["link"],
            data=_json(r["data"]),
        )
        for r in rows
    ]


def _json(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        decoded = msgspec.json.decode(value)
        return decoded if isinstance(decoded, dict) else {}
    return value if isinstance(value, dict) else {}


async def page(
    ctx: Context, user: models.User, partner_id: UUID, after: int, limit: int, wait: int
) -> models.EventPage:
    """Events after `after`; with `wait`, hold until one exists or `wait` seconds pass."""
    await require_partner_member(user.sub, partner_id)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    while True:
        with ctx.bus.subscribe(partner_id, after) as woken:
            events = await _read(partner_id, after, limit)
            remaining = deadline - loop.time()
            if events or remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken, remaining)
    next_cursor = events[-1].cursor if events else str(after)
    return models.EventPage(events=events, next_cursor=next_cursor)


async def newest_cursors(partner_ids: list[UUID]) -> dict[UUID, int]:
    """The newest event cursor of each partner."""
    rows = await Partner.select(Partner.id, Partner.event_seq).where(Partner.id.is_in(partner_ids))
    return {r["id"]: r["event_seq"] for r in rows}


async def newest_revisions(partner_ids: list[UUID]) -> dict[UUID, int]:
    rows = await Partner.select(Partner.id, Partner.revision).where(Partner.id.is_in(partner_ids))
    return {r["id"]: r["revision"] for r in rows}
