"""Transactions that behave alike on SQLite and PostgreSQL.

A read-then-write use case opens `write_transaction()` and calls `lock()` on the rows it
decides on. Rows are locked in one order everywhere, so two use cases never wait on each
other in a circle: the client first, then its invitation, link or registration link, and
the partner row (taken by `events.record`) last. On PostgreSQL that is `SELECT ... FOR UPDATE` (row locks, so unrelated work
runs in parallel); SQLite has no row locks, so its transactions start IMMEDIATE, taking
the database's write lock before the first read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from piccolo.engine.sqlite import TransactionType
from piccolo.table import Table

from db.piccolo_conf import DB

IS_POSTGRES = DB.engine_type == "postgres"


def write_transaction() -> Any:
    if IS_POSTGRES:
        return DB.transaction()
    return DB.transaction(transaction_type=TransactionType.immediate)


async def lock(table: type[Table], *row_ids: UUID) -> None:
    """Lock rows until the transaction ends (PostgreSQL; SQLite is locked whole)."""
    if IS_POSTGRES and row_ids:
        key = table._meta.primary_key
        await table.select(key).where(key.is_in(list(row_ids))).order_by(key).lock_rows()


INSERT_CHUNK = 1000  # rows per INSERT: stays below PostgreSQL's 32,767 bind parameters


async def insert_many(rows: Sequence[Table]) -> None:
    """Insert rows of one table in as few statements as the parameter limit allows."""
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        await type(chunk[0]).insert(*chunk)


async def one(query: Any) -> dict[str, Any]:
    """The single row a `select(...).first()` query must find (it exists by construction:
    a foreign key, or a row this transaction locked)."""
    row: dict[str, Any] | None = await query.first()
    if row is None:
        raise LookupError(f"expected a row: {query}")
    return row
