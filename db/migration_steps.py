"""The steps that hand-written migrations are made of: columns added the way Piccolo's
generator writes them, frozen copies of tables declared with the same rows, raw SQL run in
a migration's raw step, and the whole `forwards` of a migration that is raw SQL alone.

Migrations already applied run through these functions again on every new database, so
what a function does must never change: a new need gets a new function.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Column
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table, create_table_class

# A column's arguments that the generator writes out for every column, with its defaults.
COMMON_PARAMS: dict[str, Any] = {
    "null": False,
    "primary_key": False,
    "unique": False,
    "index": False,
    "index_method": IndexMethod.btree,
    "choices": None,
    "db_column_name": None,
    "secret": False,
}

ColumnSpec = tuple[str, type[Column], dict[str, Any]]

# What Piccolo calls in a migration module: a coroutine function returning its manager.
Forwards = Callable[[], Coroutine[Any, Any, MigrationManager]]


def params(**given: Any) -> dict[str, Any]:
    """A column's arguments as the generator writes them: the column type's own (`length`,
    `default`, `references`...) in the order given, then the common ones, `given` or their
    defaults."""
    own = {name: value for name, value in given.items() if name not in COMMON_PARAMS}
    return own | {name: given.get(name, value) for name, value in COMMON_PARAMS.items()}


def add_columns(
    manager: MigrationManager, table_class_name: str, tablename: str, columns: Iterable[ColumnSpec]
) -> None:
    """`manager.add_column` for each `(name, column class, params)`, in order."""
    for name, column_class, column_params in columns:
        manager.add_column(
            table_class_name=table_class_name,
            tablename=tablename,
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params=column_params,
            schema=None,
        )


def frozen_table(class_name: str, tablename: str, columns: Iterable[ColumnSpec]) -> type[Table]:
    """A table as a migration knows it, made of `(name, column class, params)` rows in
    order: for the foreign keys a migration declares, or the tables it creates with
    Piccolo's DDL. A migration declares its own copy, never `db.tables`, which moves on."""
    return create_table_class(
        class_name,
        class_kwargs={"tablename": tablename, "schema": None},
        class_members={name: column_class(**given) for name, column_class, given in columns},
    )


def run_sql(manager: MigrationManager, *statements: str) -> None:
    """A raw step running `statements` in order (Piccolo runs a migration's raw steps
    before the columns it adds)."""

    async def run() -> None:
        from db.piccolo_conf import DB

        for statement in statements:
            await DB.run_ddl(statement)

    manager.add_raw(run)


def sql_migration(migration_id: str, description: str, *statements: str) -> Forwards:
    """The `forwards` of a migration that is raw SQL alone: one raw step running
    `statements` in order (`run_sql`), in the app `invites`."""

    async def forwards() -> MigrationManager:
        manager = MigrationManager(
            migration_id=migration_id, app_name="invites", description=description
        )
        run_sql(manager, *statements)
        return manager

    return forwards
