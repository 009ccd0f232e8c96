"""The unit of work: the one way to change a partner's data.

    async with partner_change(ctx, partner_id) as change:
        await lock(Client, client_id)  # then re-read, decide, change rows
        ...
        change.emit(EventType.INVITATION_REVOKED, client=client_id, invitation=invitation_id)

`partner_change` opens the write transaction. When the block ends without an error it
writes the emitted events, numbered per partner without gaps, and takes a new revision
of the partner (one statement on the partner row, which is last in the lock order of
`db.transactions`; on PostgreSQL it also notifies the other processes at commit), then
commits. After the commit it wakes this process's long-polls and runs what the block
asked for with `after_commit`. An error in the block rolls everything back and records
nothing.

Each event is also queued, in the same transaction, for every enabled webhook endpoint of
the partner that takes its type (`webhook_delivery`; sent by `api.webhooks.worker`). The
partner row says how many enabled endpoints there are, in the statement that numbers
the events, so a partner without any pays no more. A block that changes endpoints calls
`webhooks_changed()` to have that count taken again.

A caller may have every unit of work of what it runs do one more thing before it commits
(`before_commit`, a context variable): `api.services.idempotency` marks the request's key
as carried out in the same transaction, so a request whose answer is lost after its
commit is never run again.

The revision is taken even when no event is emitted (a client's details edited, an
idempotent repeat): answers cached with the old revision (`api.services.revisions`) are
never served again, at the cost of recomputing them once. Only a block that found,
under its locks, that there was nothing to do at all says so with `discard()` (a sweep
that another process did first): then nothing is recorded or published.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, NoReturn
from uuid import UUID

import msgspec

from api.metrics import EVENTS
from api.services.context import Context, utcnow
from api.services.revisions import revisions
from db import sql, statements
from db.transactions import write_transaction
from mobile_contract import EventType

before_commit: ContextVar[Callable[[], Awaitable[object]] | None] = ContextVar(
    "before_commit", default=None
)


class NewEvent(msgspec.Struct, kw_only=True, frozen=True):
    type: EventType
    client: UUID | None = None
    invitation: UUID | None = None
    link: UUID | None = None
    data: dict[str, Any] = msgspec.field(default_factory=dict)


class _Discarded(Exception):
    """Raised by `PartnerChange.discard()`: roll back, record and publish nothing."""


class PartnerChange:
    """What one unit of work did to a partner: the events to record, and what to do
    once they are committed."""

    def __init__(self, partner_id: UUID, now: datetime | None = None) -> None:
        self.partner_id = partner_id
        self._now = now
        self.events: list[NewEvent] = []
        self._after_commit: list[Callable[[], object]] = []
        self._recount_webhooks = False
        self.deliveries_queued = False
        self.partner_name = ""  # as the change leaves it: known once it is recorded

    @property
    def now(self) -> datetime:
        """The change's time, the same for all it writes: fixed when first asked for. A
        block asks once it holds its locks, so that a change that waited for another is
        not dated before it (a link revoked before it was made)."""
        if self._now is None:
            self._now = utcnow()
        return self._now

    def discard(self) -> NoReturn:
        """End the block: it changed nothing (another process did the work first)."""
        raise _Discarded

    def emit(
        self,
        type: EventType,
        *,
        client: UUID | None = None,
        invitation: UUID | None = None,
        link: UUID | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.events.append(
            NewEvent(type=type, client=client, invitation=invitation, link=link, data=data or {})
        )

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Run `callback` once the change is committed (not if it is rolled back)."""
        self._after_commit.append(callback)

    def webhooks_changed(self) -> None:
        """This change adds, removes, enables or disables webhook endpoints."""
        self._recount_webhooks = True

    async def _record(self) -> int:
        """Write the events (and their webhook deliveries) and take a new revision; the
        partner's newest event cursor."""
        count = len(self.events)
        if self._recount_webhooks:
            await sql.execute(statements.RECOUNT_WEBHOOKS, self.partner_id, self.partner_id)
        row = await sql.fetch_one(statements.BUMP_PARTNER, count, self.partner_id)
        if row is None:
            raise LookupError(f"no partner {self.partner_id}")
        revisions.changing(self.partner_id, row["revision"])
        self.partner_name = row["name"]
        newest = int(row["event_seq"])
        if count:
            rows = [
                (
                    self.partner_id,
                    seq,
                    e.type.value,
                    self.now,
                    e.client,
                    e.invitation,
                    e.link,
                    msgspec.json.encode(e.data).decode(),
                )
                for seq, e in enumerate(self.events, newest - count + 1)
            ]
            await sql.insert(statements.EVENT_INSERT, rows)
            if row["webhooks"]:
                await sql.execute(
                    statements.QUEUE_DELIVERIES, self.now, self.now, self.partner_id, newest - count
                )
                self.deliveries_queued = True
        return newest


@asynccontextmanager
async def partner_change(
    ctx: Context, partner_id: UUID, now: datetime | None = None
) -> AsyncIterator[PartnerChange]:
    """One transaction changing `partner_id`'s data; see the module's docstring."""
    change = PartnerChange(partner_id, now)
    try:
        async with write_transaction():
            yield change
            newest = await change._record()
            if (also := before_commit.get()) is not None:
                await also()
    except _Discarded:
        return
    ctx.bus.publish(partner_id, newest)
    if change.deliveries_queued:
        ctx.webhooks_queued.set()
    for event in change.events:
        EVENTS.labels(event.type.value).inc()
    for callback in change._after_commit:
        callback()
