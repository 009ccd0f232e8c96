"""What this process knows of each partner's revision, and answers cached on it.

Every transaction that changes what a partner's client list or invitation tokens show
bumps `partner.revision` (`api.services.changes.partner_change`). An answer computed from the
database is labelled with the revision read before, or in the same statement as, the
rows it came from, and is served from memory only while that label is still the newest
revision this process knows of. The process learns of newer revisions:

- from its own writes, before they commit (`changing`), so a request that follows a
  write in this process never gets the answer from before it;
- from other processes: on PostgreSQL through the NOTIFY that carries each new revision
  (`api.listener`); the caches are trusted only while that listener is connected, and
  forgotten whenever it connects again (notifications sent meanwhile are lost). On SQLite,
  `watch()` asks the database twice a second for the revisions of the partners with
  cached answers, so a change made by another process is seen within a second.

Besides, nothing is served past its own `valid_until` (the next moment an invitation of
the partner expires, which changes answers without any write) nor older than `MAX_AGE`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, NamedTuple, TypeVar
from uuid import UUID

from api.lru import LRU

log = logging.getLogger("api.revisions")

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_AGE = 60.0  # seconds: a bound on anything the revision does not cover


class Revisions:
    """The newest revision this process knows of, per partner (the most recent partners)."""

    def __init__(self, max_partners: int = 20_000) -> None:
        self._known: LRU[UUID, int] = LRU(max_partners)
        self.trusted = False  # set by whatever keeps `_known` up to date (the app's lifespan)

    def changing(self, partner_id: UUID, revision: int) -> bool:
        """`revision` is (about to be) committed: answers labelled older are stale.
        Whether this is news (newer than any revision known of the partner)."""
        known = self._known.get(partner_id)  # (marks the partner recently used)
        if known is not None and revision <= known:
            return False
        self._known.put(partner_id, revision)
        return True

    def is_current(self, partner_id: UUID, revision: int) -> bool:
        return self.trusted and self._known.get(partner_id) == revision

    def forget(self) -> None:
        """Distrust every cached answer (updates may have been missed)."""
        self._known.clear()

    async def watch(
        self,
        revisions_of: Callable[[list[UUID]], Awaitable[dict[UUID, int]]],
        every: float = 0.5,
        chunk: int = 500,
    ) -> None:
        """Keep up with other processes by asking the database (for SQLite, which has no
        notifications). Trusted from the first round on."""
        while True:
            partners = list(self._known)
            try:
                for start in range(0, len(partners), chunk):
                    found = await revisions_of(partners[start : start + chunk])
                    for partner_id, revision in found.items():
                        self.changing(partner_id, revision)
                self.trusted = True
            except Exception as exc:  # the database may be away: serve nothing from memory
                self.trusted = False
                log.warning("revision watch: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(every)


revisions = Revisions()


class Versioned(NamedTuple):
    """An answer, the partner revision it was read at, and until when it stays true."""

    body: Any
    revision: int
    valid_until: float  # a time.time() instant (math.inf: until the revision changes)


class RevisionCache(Generic[K, V]):
    """A bounded LRU of values, each valid while its partner revision is current, until
    its `valid_until` (a `time.time()` instant) and for at most `MAX_AGE` seconds."""

    def __init__(self, size: int = 10_000, known: Revisions = revisions) -> None:
        self._entries: LRU[K, tuple[UUID, int, float, V]] = LRU(size)
        self._known = known

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        partner_id, revision, valid_until, value = entry
        if time.time() >= valid_until or not self._known.is_current(partner_id, revision):
            self._entries.pop(key)
            return None
        return value

    def put(self, key: K, partner_id: UUID, revision: int, value: V, valid_until: float) -> None:
        self._known.changing(partner_id, revision)
        self._entries.put(
            key, (partner_id, revision, min(valid_until, time.time() + MAX_AGE), value)
        )
