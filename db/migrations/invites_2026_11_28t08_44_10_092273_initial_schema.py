"""The initial schema, as Piccolo's generator wrote it, in the form of a table: the
arguments of each `add_column` are those that `db.migration_steps.params` completes from
what a row lists (the generator wrote every one of them out)."""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import column_types as ct
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table

from db.migration_steps import ColumnSpec, add_columns, frozen_table, params

ID = "2026-11-28T08:44:10:092273"
VERSION = "1.38.0"
DESCRIPTION = "initial schema"


def _id() -> dict[str, Any]:
    return params(default=UUID4(), primary_key=True)


def _referenced(class_name: str, tablename: str) -> type[Table]:
    """A table that foreign keys below point at, declared with its id alone."""
    return frozen_table(class_name, tablename, [("id", ct.UUID, _id())])


Business = _referenced("Business", "business")
Client = _referenced("Client", "client")
Invitation = _referenced("Invitation", "invitation")
Partner = _referenced("Partner", "partner")


def _foreign_key(references: type[Table]) -> dict[str, Any]:
    return params(
        references=references,
        on_delete=OnDelete.cascade,
        on_update=OnUpdate.cascade,
        target_column=None,
        null=True,
    )


def _membership(space: type[Table]) -> tuple[ColumnSpec, ...]:
    """A user in a space, `Partner` or `Business` (`partner_member`, `business_member`):
    the space's foreign key is named after its table."""
    return (
        ("id", ct.UUID, _id()),
        (space._meta.tablename, ct.ForeignKey, _foreign_key(space)),
        ("user_sub", ct.Varchar, params(length=255, default="", index=True)),
        ("role", ct.Varchar, params(length=16, default="")),
        ("created_at", ct.Timestamptz, params(default=TimestamptzNow())),
    )


def _made_and_revoked() -> tuple[ColumnSpec, ...]:
    """The last columns of a grant of access that a user made and may revoke
    (`registration_link`, `link`): by whom (the user's sub), when, and when revoked."""
    return (
        ("created_by", ct.Varchar, params(length=255, default="")),
        ("created_at", ct.Timestamptz, params(default=TimestamptzNow())),
        ("revoked_at", ct.Timestamptz, params(default=None, null=True)),
    )


TABLES: dict[tuple[str, str], tuple[ColumnSpec, ...]] = {
    ("Client", "client"): (
        ("id", ct.UUID, _id()),
        ("partner", ct.ForeignKey, _foreign_key(Partner)),
        ("name", ct.Varchar, params(length=200, default="")),
        ("email", ct.Varchar, params(length=254, default=None, null=True)),
        ("language", ct.Varchar, params(length=2, default="en")),
        ("vat_number", ct.Varchar, params(length=32, default=None, null=True)),
        ("external_ref", ct.Varchar, params(length=100, default=None, null=True)),
        ("status", ct.Varchar, params(length=16, default="inactive")),
        ("invitation_expires_at", ct.Timestamptz, params(default=None, null=True)),
        ("latest_invitation", ct.UUID, params(default=None, null=True)),
        ("business", ct.ForeignKey, _foreign_key(Business)),
        ("connected_at", ct.Timestamptz, params(default=None, null=True)),
        ("created_at", ct.Timestamptz, params(default=TimestamptzNow())),
        ("updated_at", ct.Timestamptz, params(default=TimestamptzNow())),
    ),
    ("PartnerMember", "partner_member"): _membership(Partner),
    ("MailOutbox", "mail_outbox"): (
        ("id", ct.BigSerial, params(primary_key=True)),
        ("invitation", ct.ForeignKey, _foreign_key(Invitation)),
        ("kind", ct.Varchar, params(length=16, default="invite")),
        ("status", ct.Varchar, params(length=16, default="queued")),
        ("attempts", ct.Integer, params(default=0)),
        ("next_attempt_at", ct.Timestamptz, params(default=TimestamptzNow())),
        ("locked_until", ct.Timestamptz, params(default=None, null=True)),
        ("last_error", ct.Text, params(default=None, null=True)),
        ("created_at", ct.Timestamptz, params(default=TimestamptzNow())),
        ("sent_at", ct.Timestamptz, params(default=None, null=True)),
    ),
    ("BusinessMember", "business_member"): _membership(Business),
    ("Partner", "partner"): (
        ("id", ct.UUID, _id()),
        ("name", ct.Varchar, params(length=200, default="")),
        ("vat_number", ct.Varchar, params(length=32, default=None, null=True)),
        ("event_seq", ct.BigInt, params(default=0)),
        ("created_at", ct.Timestamptz, params(default=TimestamptzNow())),
    ),
    ("Event", "event"): (
        ("id", ct.BigSerial, params(primary_key=True)),
        ("partner", ct.ForeignKey, _foreign_key(Partner)),
        ("seq", ct.BigInt, params(default=0)),
        ("type", ct.Varchar, params(length=40, default="")),
        ("at", ct.Timestamptz, params(default=TimestamptzNow())),
        ("client", ct.UUID, params(default=None, null=True)),
        ("invitation", ct.UUID, params(default=None, null=True)),
        ("link", ct.UUID, params(default=None, null=True)),
        ("data", ct.JSON, params(default="{}")),
    ),
    ("RegistrationLink", "registration_link"): (
        ("id", ct.UUID, _id()),
        ("partner", ct.ForeignKey, _foreign_key(Partner)),
        ("label", ct.Varchar, params(length=200, default=None, null=True)),
        ("token_id", ct.Varchar, params(length=32, default="", unique=True)),
        ("token_kid", ct.Varchar, params(length=64, default="")),
        ("token_expires_at", ct.Timestamptz, params(default=TimestamptzNow())),
        ("access_level", ct.Varchar, params(length=16, default="")),
        ("expires_at", ct.Timestamptz, params(default=None, null=True)),
        ("max_uses", ct.Integer, params(default=None, null=True)),
        ("uses", ct.Integer, params(default=0)),
        *_made_and_revoked(),
    ),
    ("Link", "link"): (
        ("id", ct.UUID, _id()),
        ("partner", ct.ForeignKey, _foreign_key(Partner)),
        ("business", ct.ForeignKey, _foreign_key(Business)),
        ("client", ct.ForeignKey, _foreign_key(Client)),
        ("access_level", ct.Varchar, params(length=16, default="")),
        ("status", ct.Varchar, params(length=16, default="active")),
        *_made_and_revoked(),
    ),
    ("Invitation", "invitation"): (
        ("id", ct.UUID, _id()),
        ("partner", ct.ForeignKey, _foreign_key(Partner)),
        ("client", ct.ForeignKey, _foreign_key(Client)),
        ("status", ct.Varchar, params(length=16, default="pending")),
        ("email", ct.Varchar, params(length=254, default="")),
        ("language", ct.Varchar, params(length=2, default="en")),
        ("message", ct.Text, params(default=None, null=True)),
        ("access_level", ct.Varchar, params(length=16, default="")),
        ("token_id", ct.Varchar, params(length=32, default="", unique=True)),
        ("token_kid", ct.Varchar, params(length=64, default="")),
        ("replaces", ct.UUID, params(default=None, null=True)),
        ("created_by", ct.Varchar, params(length=255, default="")),
        ("created_at", ct.Timestamptz, params(default=TimestamptzNow())),
        ("expires_at", ct.Timestamptz, params(default=TimestamptzNow())),
        ("opened_at", ct.Timestamptz, params(default=None, null=True)),
        ("accepted_at", ct.Timestamptz, params(default=None, null=True)),
        ("accepted_by", ct.Varchar, params(length=255, default=None, null=True)),
        ("declined_at", ct.Timestamptz, params(default=None, null=True)),
        ("revoked_at", ct.Timestamptz, params(default=None, null=True)),
        ("link", ct.UUID, params(default=None, null=True)),
        ("email_status", ct.Varchar, params(length=16, default="queued")),
        ("email_error", ct.Text, params(default=None, null=True)),
    ),
    ("QRGrant", "qr_grant"): (
        ("id", ct.UUID, _id()),
        ("invitation", ct.ForeignKey, _foreign_key(Invitation)),
        ("token_id", ct.Varchar, params(length=32, default="", unique=True)),
        ("token_kid", ct.Varchar, params(length=64, default="")),
        ("user_code", ct.Varchar, params(length=8, default="", index=True)),
        ("created_at", ct.Timestamptz, params(default=TimestamptzNow())),
        ("expires_at", ct.Timestamptz, params(default=TimestamptzNow())),
    ),
    ("Business", "business"): (
        ("id", ct.UUID, _id()),
        ("name", ct.Varchar, params(length=200, default="")),
        ("vat_number", ct.Varchar, params(length=32, default=None, null=True)),
        ("country", ct.Varchar, params(length=2, default=None, null=True)),
        ("created_at", ct.Timestamptz, params(default=TimestamptzNow())),
    ),
    ("UserCodeAttempt", "user_code_attempt"): (
        ("id", ct.BigSerial, params(primary_key=True)),
        ("user_sub", ct.Varchar, params(length=255, default="", index=True)),
        ("at", ct.Timestamptz, params(default=TimestamptzNow())),
    ),
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="invites", description=DESCRIPTION)
    for class_name, tablename in TABLES:
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
    for (class_name, tablename), columns in TABLES.items():
        add_columns(manager, class_name, tablename, columns)
    return manager
