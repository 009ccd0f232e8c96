"""Reminders and access notices.

- `partner.reminder_days`: the partner's own reminder schedule (JSON list of days; NULL:
  the service's default).
- `invitation.reminders_sent`, `last_reminded_at`, and `next_reminder_at`: when the next
  reminder is due (NULL: none), indexed for the sweep.
- `known_user`: the email and language of each user, from their access tokens and
  requests, so a business's admins can be told when a partner gains access.
- `access_notice`: those emails, queued with the confirm that causes them and sent like
  invitation emails (the columns of `db.claims`).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import column_types as ct
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from db.migration_steps import ColumnSpec, add_columns

ID = "2026-12-02T16:16:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reminders and access notices"

# Each column's arguments as this migration has always given them: only those written
# here, not completed by `db.migration_steps.params`.
PARTNER_COLUMNS: tuple[ColumnSpec, ...] = (
    ("reminder_days", ct.Text, {"null": True, "default": None}),
)

INVITATION_COLUMNS: tuple[ColumnSpec, ...] = (
    ("reminders_sent", ct.Integer, {"default": 0}),
    ("last_reminded_at", ct.Timestamptz, {"null": True, "default": None}),
    ("next_reminder_at", ct.Timestamptz, {"null": True, "default": None}),
)

KNOWN_USER_COLUMNS: tuple[ColumnSpec, ...] = (
    ("sub", ct.Varchar, {"length": 255, "primary_key": True}),
    ("email", ct.Varchar, {"length": 254, "null": True, "default": None}),
    ("language", ct.Varchar, {"length": 2, "default": "en"}),
    ("updated_at", ct.Timestamptz, {"default": TimestamptzNow()}),
)

ACCESS_NOTICE_COLUMNS: tuple[ColumnSpec, ...] = (
    ("id", ct.BigSerial, {"primary_key": True}),
    ("link", ct.UUID, {"default": None}),
    ("partner", ct.UUID, {"default": None}),
    ("business", ct.UUID, {"default": None}),
    ("email", ct.Varchar, {"length": 254, "default": ""}),
    ("language", ct.Varchar, {"length": 2, "default": "en"}),
    ("access_level", ct.Varchar, {"length": 16, "default": "full"}),
    ("granted_by", ct.Varchar, {"length": 255, "default": ""}),
    ("granted_at", ct.Timestamptz, {"default": TimestamptzNow()}),
    ("status", ct.Varchar, {"length": 16, "default": "queued"}),
    ("attempts", ct.Integer, {"default": 0}),
    ("next_attempt_at", ct.Timestamptz, {"default": TimestamptzNow()}),
    ("locked_until", ct.Timestamptz, {"null": True, "default": None}),
    ("last_error", ct.Text, {"null": True, "default": None}),
    ("created_at", ct.Timestamptz, {"default": TimestamptzNow()}),
    ("sent_at", ct.Timestamptz, {"null": True, "default": None}),
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="invites", description=DESCRIPTION)
    add_columns(manager, "Partner", "partner", PARTNER_COLUMNS)
    add_columns(manager, "Invitation", "invitation", INVITATION_COLUMNS)
    manager.add_table(class_name="KnownUser", tablename="known_user", schema=None, columns=None)
    add_columns(manager, "KnownUser", "known_user", KNOWN_USER_COLUMNS)
    manager.add_table(
        class_name="AccessNotice", tablename="access_notice", schema=None, columns=None
    )
    add_columns(manager, "AccessNotice", "access_notice", ACCESS_NOTICE_COLUMNS)
    return manager
