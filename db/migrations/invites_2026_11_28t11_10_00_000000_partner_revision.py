"""`partner.revision`: counts every change to what the partner's lists and links show.

Caches of client lists and token states are labelled with it (see api.services.revisions).
Also an index for the next expiry among a partner's invited clients, which bounds how
long a cached client list stays true.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import BigInt
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-28T11:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "partner revision"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="invites", description=DESCRIPTION)
    manager.add_column(
        table_class_name="Partner",
        tablename="partner",
        column_name="revision",
        db_column_name="revision",
        column_class_name="BigInt",
        column_class=BigInt,
        params={
            "default": 0,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    async def create_index() -> None:
        from db.piccolo_conf import DB

        await DB.run_ddl(
            "CREATE INDEX client_partner_invited_expiry ON client (partner, invitation_expires_at)"
            " WHERE status = 'invited'"
        )

    manager.add_raw(create_index)
    return manager
