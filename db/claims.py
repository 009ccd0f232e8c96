"""Background work claimed from a table: a lease, and retries with backoff.

A work table (the mail outbox, reminders included; access notices; webhook deliveries)
has the columns `status` (`queued` while there is work to do), `attempts`,
`next_attempt_at`, `locked_until` and `last_error`, and an integer primary key `id`. A worker `claim()`s due
rows by setting a lease (`locked_until`) and counting the attempt; on PostgreSQL the
claiming SELECT skips rows another process is claiming at that moment (`FOR UPDATE SKIP
LOCKED`), and SQLite serialises claims in an immediate transaction. So several processes
never take one row twice, and a crash only delays a row until its lease runs out.

The worker then attempts each row and `settle()`s the outcomes, inside the transaction
that records what they mean (for mail: the invitation's delivery state and its events).
`keep_claiming()` is the loop around it: claim while there is work, else wait to be
woken (new work was committed) or for the next look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

import msgspec
from piccolo.columns import Column
from piccolo.table import Table

from db.piccolo_conf import IS_POSTGRES
from db.transactions import write_transaction

log = logging.getLogger("api.background")


async def keep_claiming(
    name: str,
    run_once: Callable[[], Awaitable[int]],
    wake: asyncio.Event,
    stopping: asyncio.Event,
    idle_poll: float = 1.0,
) -> None:
    """Call `run_once` (which claims and works a batch, and says how many rows it took)
    until `stopping` is set; when it took none, wait for `wake` (set after a commit that
    queued work, and on stop) or `idle_poll` seconds. A failure (the database away) is
    logged and tried again after the wait."""
    while not stopping.is_set():
        # Cleared before claiming: work queued while this claim runs (which may not see
        # it) sets `wake` again, and the next claim comes at once.
        wake.clear()
        try:
            taken = await run_once()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("%s: %s: %s", name, type(exc).__name__, exc)
            taken = 0
        if taken == 0 and not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), idle_poll)


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    batch: int = 50
    lease: timedelta = timedelta(seconds=120)
    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=10)
    retry_cap: timedelta = timedelta(hours=1)

    def backoff(self, attempts: int) -> timedelta:
        """The wait after failed attempt number `attempts` (1, 2, …): doubling, capped."""
        return min(self.retry_cap, self.retry_base * 2 ** max(0, attempts - 1))


class Failure(Protocol):
    """Why an attempt failed, and whether trying again could help."""

    reason: str
    permanent: bool


class Settled(NamedTuple):
    """A batch's outcomes: rows done, rows to try again and rows given up, with reasons."""

    done: list[dict[str, Any]]
    retrying: list[tuple[dict[str, Any], str]]
    failed: list[tuple[dict[str, Any], str]]


class WorkQueue:
    """The rows of `table` still to be worked on; `done_status` and `done_at` (a column)
    are what a row that succeeded records."""

    def __init__(
        self, table: type[Table], policy: RetryPolicy, *, done_status: str, done_at: Column
    ) -> None:
        self.table = table
        self.policy = policy
        self.done_status = done_status
        self.done_at = done_at
        self._c: Any = table._meta.get_column_by_name

    async def claim(
        self, now: datetime, limit: int | None = None, where: Any = None
    ) -> list[dict[str, Any]]:
        """Lease up to `limit` (default `policy.batch`) due rows, among those matching
        `where` if given (every column, `attempts` counting this one)."""
        table, c = self.table, self._c
        key = table._meta.primary_key
        condition = (
            (c("status") == "queued")
            & (c("next_attempt_at") <= now)
            & (c("locked_until").is_null() | (c("locked_until") < now))
        )
        if where is not None:
            condition &= where
        async with write_transaction():
            due = table.select(key).where(condition).order_by(key).limit(limit or self.policy.batch)
            if IS_POSTGRES:
                due = due.lock_rows(skip_locked=True)
            ids = [r[key._meta.name] for r in await due]
            if not ids:
                return []
            claimed: list[dict[str, Any]] = (
                await table.update(
                    {c("locked_until"): now + self.policy.lease, c("attempts"): c("attempts") + 1}
                )
                .where(key.is_in(ids))
                .returning(*table.all_columns())
            )
            return claimed

    def sort(self, outcomes: list[tuple[dict[str, Any], Failure | None]]) -> Settled:
        """Done, to retry, or failed for good (permanent, or out of attempts)."""
        settled = Settled([], [], [])
        for row, failure in outcomes:
            if failure is None:
                settled.done.append(row)
            elif failure.permanent or row["attempts"] >= self.policy.max_attempts:
                settled.failed.append((row, failure.reason))
            else:
                settled.retrying.append((row, failure.reason))
        return settled

    async def settle(self, settled: Settled, now: datetime) -> None:
        """Record `settled` and release the leases; inside the caller's transaction."""
        table, c = self.table, self._c
        key = table._meta.primary_key
        if settled.done:
            await table.update(
                {c("status"): self.done_status, self.done_at: now, c("locked_until"): None}
            ).where(key.is_in([row["id"] for row in settled.done]))
        for row, reason in settled.retrying:
            await table.update(
                {
                    c("next_attempt_at"): now + self.policy.backoff(row["attempts"]),
                    c("locked_until"): None,
                    c("last_error"): reason,
                }
            ).where(key == row["id"])
        for row, reason in settled.failed:
            await table.update(
                {c("status"): "failed", c("locked_until"): None, c("last_error"): reason}
            ).where(key == row["id"])
