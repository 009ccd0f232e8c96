"""Plain SQL for the hottest statements: written once, compiled once, run directly.

Piccolo builds and compiles a query on every call, which costs more than the database
round trip on paths such as confirming an invitation. A `Statement` is written with `{}`
placeholders (as in Piccolo's `raw()`), compiled once for the engine in use (`$n` for
asyncpg, `?` for SQLite) and run on the current transaction's connection. Values pass
through the same adapters as Piccolo's own queries (UUIDs and datetimes on SQLite), and
rows come back as dicts.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any, NamedTuple

from piccolo.columns import Column
from piccolo.querystring import QueryString
from piccolo.table import Table

from db.piccolo_conf import DB, IS_POSTGRES


class Statement:
    """`text`, or `postgres` in its place on PostgreSQL (for what SQLite lacks)."""

    def __init__(self, text: str, *, postgres: str | None = None) -> None:
        self.text = postgres if IS_POSTGRES and postgres is not None else text
        pieces = self.text.split("{}")
        self.arity = len(pieces) - 1
        marks = [f"${n}" for n in range(1, len(pieces))] if IS_POSTGRES else ["?"] * self.arity
        self.compiled = "".join(p + m for p, m in zip(pieces, [*marks, ""], strict=True))

    def __repr__(self) -> str:
        return f"Statement({self.text!r})"


async def fetch(statement: Statement, *args: Any) -> list[dict[str, Any]]:
    """The rows of `statement`, run in the current transaction (or on its own)."""
    if len(args) != statement.arity:
        raise TypeError(f"{statement!r} takes {statement.arity} values, not {len(args)}")
    transaction = DB.current_transaction.get()
    if transaction is None:  # rare on the paths this serves: let Piccolo find a connection
        rows = await DB.run_querystring(QueryString(statement.text, *args))
        return [dict(row) for row in rows]
    connection = transaction.connection
    if IS_POSTGRES:
        return [dict(row) for row in await connection.fetch(statement.compiled, *args)]
    async with connection.execute(statement.compiled, args) as cursor:
        return list(await cursor.fetchall())


async def fetch_one(statement: Statement, *args: Any) -> dict[str, Any] | None:
    rows = await fetch(statement, *args)
    return rows[0] if rows else None


async def execute(statement: Statement, *args: Any) -> None:
    await fetch(statement, *args)


MAX_VALUES = 30_000  # per statement: below the bind-parameter limits of both engines


class Insert(NamedTuple):
    """Where an INSERT writes: a table and its columns, in the order values are given."""

    table: str
    columns: tuple[str, ...]


def insert_into(table: type[Table], *columns: Column) -> Insert:
    """The INSERT target of `columns` of `table` (names read from the table, so a renamed
    column cannot drift from a hand-written list)."""
    return Insert(table._meta.tablename, tuple(c._meta.db_column_name for c in columns))


@functools.cache
def insert_statement(target: Insert, count: int) -> Statement:
    row = "(" + ", ".join(["{}"] * len(target.columns)) + ")"
    return Statement(
        f"INSERT INTO {target.table} ({', '.join(target.columns)}) VALUES "
        + ", ".join([row] * count)
    )


def insert_batches(
    target: Insert, rows: list[tuple[Any, ...]]
) -> Iterator[tuple[Statement, list[Any]]]:
    """`rows` (values in the order of the target's columns) as few INSERTs, with their
    values, as the bind-parameter limits allow."""
    per_statement = MAX_VALUES // len(target.columns)
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        yield insert_statement(target, len(chunk)), [v for row in chunk for v in row]


async def insert(target: Insert, rows: list[tuple[Any, ...]]) -> None:
    for statement, values in insert_batches(target, rows):
        await execute(statement, *values)
