"""Wakes long-polling readers when a partner's events change.

A reader subscribes (with the cursor it has read up to) before it reads, so an event
committed between its read and its wait still wakes it. Writers in this process publish
right after their transaction commits. Changes made by other processes arrive through
PostgreSQL LISTEN/NOTIFY, and, as a fallback that also serves SQLite, `watch()` asks the
database twice a second for the newest cursor of every partner someone waits on: one
query per process, not one per waiting request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Iterator
from typing import NamedTuple, TypeVar
from uuid import UUID

from api.errors import AppError
from api.lru import LRU
from api.metrics import LONGPOLLS_REFUSED, LONGPOLLS_WAITING
from mobile_contract import ErrorCode

log = logging.getLogger("api.events")

Waiter = tuple[asyncio.Future[None], int]
HELD_RETRY_AFTER = 5  # seconds: a held poll ends when an event comes or its wait is over


class Caps(NamedTuple):
    """Long-polls held at once: per user, per partner and in this process."""

    per_user: int
    per_partner: int
    per_process: int


class EventBus:
    def __init__(self, caps: Caps) -> None:
        self._waiters: dict[UUID, set[Waiter]] = {}
        self.caps = caps
        self._held_by_user: Counter[str] = Counter()
        self._held_for_partner: Counter[UUID] = Counter()
        self._held = 0
        # The newest cursor each (recent) partner's waiters were woken for: what `watch`
        # finds no newer than this was announced already.
        self._announced: LRU[UUID, int] = LRU(20_000)
        self.stopping = False  # set by `stop()`: no poll is held any more

    def stop(self) -> None:
        """The process is stopping: every waiter is woken, and a future subscription is
        complete at once (each poll is answered with what there is, and its dashboard polls
        again elsewhere)."""
        self.stopping = True
        for partner_id in list(self._waiters):
            self.publish(partner_id)

    def refusal(self, user_sub: str, partner_id: UUID) -> AppError | None:
        """The `429 rate_limited` that a new long-poll gets now, because the user, the
        partner or this process holds as many as its cap; None when it may be held."""
        caps = self.caps
        if (
            self._held_by_user[user_sub] < caps.per_user
            and self._held_for_partner[partner_id] < caps.per_partner
            and self._held < caps.per_process
        ):
            return None
        LONGPOLLS_REFUSED.inc()
        return AppError(
            ErrorCode.RATE_LIMITED,
            "Too many long-polls held at once; poll again shortly.",
            retry_after=HELD_RETRY_AFTER,
        )

    @contextlib.contextmanager
    def hold(self, user_sub: str, partner_id: UUID) -> Iterator[None]:
        """A long-poll's place while it is held, or its `refusal` raised (a held poll is
        an open connection: without caps, one user's could fill every slot of the
        server)."""
        refused = self.refusal(user_sub, partner_id)
        if refused is not None:
            raise refused
        self._held_by_user[user_sub] += 1
        self._held_for_partner[partner_id] += 1
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            _release(self._held_by_user, user_sub)
            _release(self._held_for_partner, partner_id)

    def publish(self, partner_id: UUID, newest: int | None = None) -> None:
        """Wake the waiters of `partner_id` (those behind `newest`, if given)."""
        if newest is not None and newest > (self._announced.get(partner_id) or 0):
            self._announced.put(partner_id, newest)
        for waiter in list(self._waiters.get(partner_id, ())):
            future, after = waiter
            if (newest is None or after < newest) and not future.done():
                future.set_result(None)

    @contextlib.contextmanager
    def subscribe(self, partner_id: UUID, after: int) -> Iterator[asyncio.Future[None]]:
        """A future completed by the next change of the partner's events after `after`."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.stopping:
            future.set_result(None)
        waiter = (future, after)
        waiters = self._waiters.setdefault(partner_id, set())
        waiters.add(waiter)
        LONGPOLLS_WAITING.inc()
        try:
            yield future
        finally:
            LONGPOLLS_WAITING.dec()
            waiters.discard(waiter)
            if not waiters and self._waiters.get(partner_id) is waiters:
                del self._waiters[partner_id]

    async def watch(
        self, newest_cursors: Callable[[list[UUID]], Awaitable[dict[UUID, int]]], every: float = 0.5
    ) -> None:
        """Wake waiters behind the database's cursors that this process has not announced
        (another process's changes); the cross-process fallback."""
        while True:
            await asyncio.sleep(every)
            partners = list(self._waiters)
            if not partners:
                continue
            try:
                cursors = await newest_cursors(partners)
            except Exception as exc:  # the database may be away: the waits time out meanwhile
                log.warning("event watch: %s: %s", type(exc).__name__, exc)
                continue
            for partner_id, newest in cursors.items():
                if newest > (self._announced.get(partner_id) or 0):
                    self.publish(partner_id, newest)


K = TypeVar("K", bound=Hashable)


def _release(held: Counter[K], key: K) -> None:
    held[key] -= 1
    if held[key] <= 0:
        del held[key]
