"""Transactions that behave alike on SQLite and PostgreSQL.

A read-then-write use case (inside `api.services.changes.partner_change`, which opens
`write_transaction()`) calls `lock()` on the rows it decides on. Rows are locked in one
order everywhere, so two use cases never wait on each other in a circle: the client
first, then its invitation, link or registration link, and the partner row (taken by
the unit of work as it records its events) last. The one exception is a webhook
endpoint: the unit of work queues its deliveries (rows that refer to it) after taking the
partner row, so whoever locks an endpoint takes the partner row first (`lock_endpoint`),
then the endpoint, then its deliveries; adding one takes the partner row
(`lock_endpoints`). Whoever changes an invitation's status
locks its client first, so a client's lock also holds its invitations still; and whoever
holds the partner row changes no invitation whose client it does not hold (a first
preview marks `opened_at` without the client's lock, then waits for the partner row).

On PostgreSQL a lock is `SELECT ... FOR NO KEY UPDATE` (row locks, so unrelated work runs
in parallel): the lock an UPDATE of the row takes, so it waits for the row's writers, but
not for transactions that only inserted a row referring to it (a foreign key's check
holds `FOR KEY SHARE` of the referred row until commit). `FOR UPDATE` would wait for
those: an invite taking the partner row then waited for a confirm that had inserted its
link, and every writer queued behind the invite, the confirm's next wait among them.
SQLite has no row locks, so its transactions start IMMEDIATE, taking the database's write
lock before the first read.
"""

from __future__ import annotations

import functools
from typing import Any
from uuid import UUID

from piccolo.engine.postgres import PostgresTransaction
from piccolo.engine.sqlite import TransactionType
from piccolo.table import Table

from db import sql
from db.piccolo_conf import DB, IS_POSTGRES
from db.tables import Partner, WebhookEndpoint

__all__ = [
    "IS_POSTGRES",
    "lock",
    "lock_endpoint",
    "lock_endpoints",
    "lock_statement",
    "one",
    "write_transaction",
]


class _PostgresTransaction(PostgresTransaction):
    """Piccolo's transaction, handing its connection back to the pool in every case.

    Piccolo's own keeps the connection when `BEGIN` fails on entry, or when the rollback
    fails on exit, which is just what happens while the server restarts: each such
    request would leak a pooled connection, and closing the pool would then wait forever.
    """

    async def __aenter__(self) -> Any:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException:
            await self._release()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        finally:
            self.engine.current_transaction.reset(self.context)
            await self._release()
        return exception is None

    async def _release(self) -> None:
        try:
            if self.engine.pool:
                await self.engine.pool.release(self.connection)
            else:
                await self.connection.close()
        except Exception:  # a broken connection: the pool replaces it on its own
            pass


def write_transaction() -> Any:
    if IS_POSTGRES:
        return _PostgresTransaction(engine=DB)  # type: ignore[arg-type]
    return DB.transaction(transaction_type=TransactionType.immediate)


@functools.cache
def lock_statement(table: type[Table], count: int) -> sql.Statement:
    """`SELECT … FOR NO KEY UPDATE` of `count` rows of `table` by primary key, in key
    order."""
    key = table._meta.primary_key._meta.db_column_name
    marks = ", ".join(["{}"] * count)
    return sql.Statement(
        f"SELECT {key} FROM {table._meta.tablename} WHERE {key} IN ({marks})"
        f" ORDER BY {key} FOR NO KEY UPDATE"
    )


LOCK_BATCH = 1000  # rows a statement locks (PostgreSQL takes at most 32,767 parameters)


async def lock(table: type[Table], *row_ids: UUID) -> None:
    """Lock rows until the transaction ends (PostgreSQL; SQLite is locked whole).

    The one way to lock rows: take them in the order the module's docstring gives. Many
    rows are locked a batch at a time, in key order across the batches too."""
    if IS_POSTGRES and row_ids:
        ids = sorted(set(row_ids))
        for start in range(0, len(ids), LOCK_BATCH):
            batch = ids[start : start + LOCK_BATCH]
            await sql.execute(lock_statement(table, len(batch)), *batch)


async def lock_endpoints(partner_id: UUID) -> None:
    """Hold a partner's set of webhook endpoints still (before counting them to add one):
    its partner row, which whoever locks an endpoint takes first."""
    await lock(Partner, partner_id)


async def lock_endpoint(partner_id: UUID, endpoint_id: UUID) -> None:
    """Lock a webhook endpoint, after its partner's row (the exception in the order above:
    the unit of work queues deliveries, which refer to endpoints, once it holds the
    partner row)."""
    await lock_endpoints(partner_id)
    await lock(WebhookEndpoint, endpoint_id)


async def one(query: Any) -> dict[str, Any]:
    """The single row a `select(...).first()` query must find (it exists by construction:
    a foreign key, or a row this transaction locked)."""
    row: dict[str, Any] | None = await query.first()
    if row is None:
        raise LookupError(f"expected a row: {query}")
    return row
