"""Indexes of the reminder sweep and of the access notices' queue (raw DDL runs before
a migration's columns are added, hence a migration of their own)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from db.migration_steps import run_sql

ID = "2026-12-02T16:16:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "reminder and access notice indexes"

STATEMENTS = (
    "CREATE INDEX invitation_reminder_due ON invitation (next_reminder_at)"
    " WHERE status = 'pending' AND next_reminder_at IS NOT NULL",
    "CREATE INDEX access_notice_due ON access_notice (status, next_attempt_at)",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="invites", description=DESCRIPTION)
    run_sql(manager, *STATEMENTS)
    return manager
