"""The steps that hand-written migrations are made of: columns added the way Piccolo's
generator writes them, and raw SQL run in a migration's raw step.

Migrations already applied run through these functions again on every new database, so
what a function does must never change: a new need gets a new function.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Column
from piccolo.columns.indexes import IndexMethod

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


def run_sql(manager: MigrationManager, *statements: str) -> None:
    """A raw step running `statements` in order (Piccolo runs a migration's raw steps
    before the columns it adds)."""

    async def run() -> None:
        from db.piccolo_conf import DB

        for statement in statements:
            await DB.run_ddl(statement)

    manager.add_raw(run)
