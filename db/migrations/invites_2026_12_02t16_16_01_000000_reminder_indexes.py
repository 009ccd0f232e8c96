"""Indexes of the reminder sweep and of the access notices' queue (raw DDL runs before
a migration's columns are added, hence a migration of their own)."""

from db.migration_steps import sql_migration

ID = "2026-12-02T16:16:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "reminder and access notice indexes"

STATEMENTS = (
    "CREATE INDEX invitation_reminder_due ON invitation (next_reminder_at)"
    " WHERE status = 'pending' AND next_reminder_at IS NOT NULL",
    "CREATE INDEX access_notice_due ON access_notice (status, next_attempt_at)",
)

forwards = sql_migration(ID, DESCRIPTION, *STATEMENTS)
