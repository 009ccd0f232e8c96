"""The partner an answer kept under an `Idempotency-Key` belongs to: deleting a client
looks for the answers that show it among its partner's alone (an index)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import column_types as ct

from db.migration_steps import add_columns, params

ID = "2026-12-03T16:40:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "idempotency key partner"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="invites", description=DESCRIPTION)
    partner = ("partner", ct.UUID, params(default=None, null=True, index=True))
    add_columns(manager, "IdempotencyKey", "idempotency_key", [partner])
    return manager
