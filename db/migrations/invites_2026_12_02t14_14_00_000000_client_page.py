"""What the Clients page needs: where a client came from, when and by whom it was
disconnected, when it was last invited, the folded forms that search and the name sort
read (db.search); and the table of answers given under an `Idempotency-Key`.

Existing rows are filled by the next migration (Piccolo runs raw steps before the
columns it adds, so the filling cannot share this file).
"""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import column_types as ct
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from db.migration_steps import COMMON_PARAMS, ColumnSpec, add_columns

ID = "2026-12-02T14:14:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "client page columns and idempotency keys"


def _params(**given: Any) -> dict[str, Any]:
    return {"default": None, **COMMON_PARAMS} | given


CLIENT_COLUMNS: tuple[ColumnSpec, ...] = (
    ("source", ct.Varchar, _params(length=20, default="manual")),
    ("registration_link", ct.UUID, _params(null=True)),
    ("disconnected_at", ct.Timestamptz, _params(null=True)),
    ("disconnected_by", ct.Varchar, _params(length=16, null=True)),
    ("invited_at", ct.Timestamptz, _params(null=True)),
    ("name_key", ct.Varchar, _params(length=200, default="")),
    ("search_text", ct.Text, _params(default="")),
    ("vat_key", ct.Varchar, _params(length=32, default="")),
)

IDEMPOTENCY_COLUMNS: tuple[ColumnSpec, ...] = (
    ("id", ct.BigSerial, _params(primary_key=True)),
    ("user_sub", ct.Varchar, _params(length=255, default="")),
    ("path", ct.Varchar, _params(length=255, default="")),
    ("key", ct.Varchar, _params(length=255, default="")),
    ("fingerprint", ct.Varchar, _params(length=64, default="")),
    ("status_code", ct.Integer, _params(null=True)),
    ("body", ct.Text, _params(null=True)),
    ("created_at", ct.Timestamptz, _params(default=TimestamptzNow())),
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="invites", description=DESCRIPTION)
    add_columns(manager, "Client", "client", CLIENT_COLUMNS)
    manager.add_table(class_name="IdempotencyKey", tablename="idempotency_key", schema=None)
    add_columns(manager, "IdempotencyKey", "idempotency_key", IDEMPOTENCY_COLUMNS)
    return manager
