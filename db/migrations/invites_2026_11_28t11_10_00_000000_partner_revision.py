"""`partner.revision`: counts every change to what the partner's lists and links show.

Caches of client lists and token states are labelled with it (see api.services.revisions).
Also an index for the next expiry among a partner's invited clients, which bounds how
long a cached client list stays true.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import column_types as ct

from db.migration_steps import add_columns, params, run_sql

ID = "2026-11-28T11:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "partner revision"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="invites", description=DESCRIPTION)
    add_columns(manager, "Partner", "partner", [("revision", ct.BigInt, params(default=0))])
    run_sql(
        manager,
        "CREATE INDEX client_partner_invited_expiry ON client (partner, invitation_expires_at)"
        " WHERE status = 'invited'",
    )
    return manager
