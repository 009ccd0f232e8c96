"""Wakes long-polling readers when a partner's events change.

A reader subscribes before it reads, so an event committed between its read and its
wait still wakes it. Writers publish right after their transaction commits; other
processes are woken through PostgreSQL LISTEN/NOTIFY (see `api.services.listener`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID


class EventBus:
    def __init__(self) -> None:
        self._waiters: dict[UUID, set[asyncio.Future[None]]] = {}

    def publish(self, partner_id: UUID) -> None:
        for future in self._waiters.pop(partner_id, ()):
            if not future.done():
                future.set_result(None)

    def publish_all(self) -> None:
        for partner_id in list(self._waiters):
            self.publish(partner_id)

    @contextmanager
    def subscribe(self, partner_id: UUID) -> Iterator[asyncio.Future[None]]:
        """A future that completes at the next `publish(partner_id)`."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._waiters.setdefault(partner_id, set())
        waiters.add(future)
        try:
            yield future
        finally:
            waiters.discard(future)
            if not waiters and self._waiters.get(partner_id) is waiters:
                del self._waiters[partner_id]

    @property
    def waiting(self) -> int:
        return sum(len(w) for w in self._waiters.values())
