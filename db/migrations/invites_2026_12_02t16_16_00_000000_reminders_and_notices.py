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

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import UUID, BigSerial, Integer, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from db.migration_steps import add_columns

ID = "2026-12-02T16:16:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reminders and access notices"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="invites", description=DESCRIPTION)

    def column(table_class: str, tablename: str, name: str, kind: type, **params: Any) -> None:
        add_columns(manager, table_class, tablename, [(name, kind, params)])

    column("Partner", "partner", "reminder_days", Text, null=True, default=None)
    column("Invitation", "invitation", "reminders_sent", Integer, default=0)
    column("Invitation", "invitation", "last_reminded_at", Timestamptz, null=True, default=None)
    column("Invitation", "invitation", "next_reminder_at", Timestamptz, null=True, default=None)

    manager.add_table(class_name="KnownUser", tablename="known_user", schema=None, columns=None)
    column("KnownUser", "known_user", "sub", Varchar, length=255, primary_key=True)
    column("KnownUser", "known_user", "email", Varchar, length=254, null=True, default=None)
    column("KnownUser", "known_user", "language", Varchar, length=2, default="en")
    column("KnownUser", "known_user", "updated_at", Timestamptz, default=TimestamptzNow())

    manager.add_table(
        class_name="AccessNotice", tablename="access_notice", schema=None, columns=None
    )
    notice = ("AccessNotice", "access_notice")
    column(*notice, "id", BigSerial, primary_key=True)
    column(*notice, "link", UUID, default=None)
    column(*notice, "partner", UUID, default=None)
    column(*notice, "business", UUID, default=None)
    column(*notice, "email", Varchar, length=254, default="")
    column(*notice, "language", Varchar, length=2, default="en")
    column(*notice, "access_level", Varchar, length=16, default="full")
    column(*notice, "granted_by", Varchar, length=255, default="")
    column(*notice, "granted_at", Timestamptz, default=TimestamptzNow())
    column(*notice, "status", Varchar, length=16, default="queued")
    column(*notice, "attempts", Integer, default=0)
    column(*notice, "next_attempt_at", Timestamptz, default=TimestamptzNow())
    column(*notice, "locked_until", Timestamptz, null=True, default=None)
    column(*notice, "last_error", Text, null=True, default=None)
    column(*notice, "created_at", Timestamptz, default=TimestamptzNow())
    column(*notice, "sent_at", Timestamptz, null=True, default=None)

    return manager
