"""The initial schema, as Piccolo's generator wrote it, in the form of a table: the
arguments of each `add_column` are those that `db.migration_steps.params` completes from
what a row lists (the generator wrote every one of them out)."""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.base import OnDelete, OnUpdate
from piccolo.columns.column_types import (
    JSON,
    UUID,
    BigInt,
    BigSerial,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table, create_table_class

from db.migration_steps import ColumnSpec, add_columns, params

ID = "2026-11-28T08:44:10:092273"
VERSION = "1.38.0"
DESCRIPTION = "initial schema"


def _id() -> dict[str, Any]:
    return params(default=UUID4(), primary_key=True)


def _referenced(class_name: str, tablename: str) -> type[Table]:
    """A table that foreign keys below point at, declared with its id alone."""
    return create_table_class(
        class_name,
        class_kwargs={"tablename": tablename, "schema": None},
        class_members={"id": UUID(**_id())},
    )


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


TABLES: dict[tuple[str, str], tuple[ColumnSpec, ...]] = {
    ("Client", "client"): (
        ("id", UUID, _id()),
        ("partner", ForeignKey, _foreign_key(Partner)),
        ("name", Varchar, params(length=200, default="")),
        ("email", Varchar, params(length=254, default=None, null=True)),
        ("language", Varchar, params(length=2, default="en")),
        ("vat_number", Varchar, params(length=32, default=None, null=True)),
        ("external_ref", Varchar, params(length=100, default=None, null=True)),
        ("status", Varchar, params(length=16, default="inactive")),
        ("invitation_expires_at", Timestamptz, params(default=None, null=True)),
        ("latest_invitation", UUID, params(default=None, null=True)),
        ("business", ForeignKey, _foreign_key(Business)),
        ("connected_at", Timestamptz, params(default=None, null=True)),
        ("created_at", Timestamptz, params(default=TimestamptzNow())),
        ("updated_at", Timestamptz, params(default=TimestamptzNow())),
    ),
    ("PartnerMember", "partner_member"): (
        ("id", UUID, _id()),
        ("partner", ForeignKey, _foreign_key(Partner)),
        ("user_sub", Varchar, params(length=255, default="", index=True)),
        ("role", Varchar, params(length=16, default="")),
        ("created_at", Timestamptz, params(default=TimestamptzNow())),
    ),
    ("MailOutbox", "mail_outbox"): (
        ("id", BigSerial, params(primary_key=True)),
        ("invitation", ForeignKey, _foreign_key(Invitation)),
        ("kind", Varchar, params(length=16, default="invite")),
        ("status", Varchar, params(length=16, default="queued")),
        ("attempts", Integer, params(default=0)),
        ("next_attempt_at", Timestamptz, params(default=TimestamptzNow())),
        ("locked_until", Timestamptz, params(default=None, null=True)),
        ("last_error", Text, params(default=None, null=True)),
        ("created_at", Timestamptz, params(default=TimestamptzNow())),
        ("sent_at", Timestamptz, params(default=None, null=True)),
    ),
    ("BusinessMember", "business_member"): (
        ("id", UUID, _id()),
        ("business", ForeignKey, _foreign_key(Business)),
        ("user_sub", Varchar, params(length=255, default="", index=True)),
        ("role", Varchar, params(length=16, default="")),
        ("created_at", Timestamptz, params(default=TimestamptzNow())),
    ),
    ("Partner", "partner"): (
        ("id", UUID, _id()),
        ("name", Varchar, params(length=200, default="")),
        ("vat_number", Varchar, params(length=32, default=None, null=True)),
        ("event_seq", BigInt, params(default=0)),
        ("created_at", Timestamptz, params(default=TimestamptzNow())),
    ),
    ("Event", "event"): (
        ("id", BigSerial, params(primary_key=True)),
        ("partner", ForeignKey, _foreign_key(Partner)),
        ("seq", BigInt, params(default=0)),
        ("type", Varchar, params(length=40, default="")),
        ("at", Timestamptz, params(default=TimestamptzNow())),
        ("client", UUID, params(default=None, null=True)),
        ("invitation", UUID, params(default=None, null=True)),
        ("link", UUID, params(default=None, null=True)),
        ("data", JSON, params(default="{}")),
    ),
    ("RegistrationLink", "registration_link"): (
        ("id", UUID, _id()),
        ("partner", ForeignKey, _foreign_key(Partner)),
        ("label", Varchar, params(length=200, default=None, null=True)),
        ("token_id", Varchar, params(length=32, default="", unique=True)),
        ("token_kid", Varchar, params(length=64, default="")),
        ("token_expires_at", Timestamptz, params(default=TimestamptzNow())),
        ("access_level", Varchar, params(length=16, default="")),
        ("expires_at", Timestamptz, params(default=None, null=True)),
        ("max_uses", Integer, params(default=None, null=True)),
        ("uses", Integer, params(default=0)),
        ("created_by", Varchar, params(length=255, default="")),
        ("created_at", Timestamptz, params(default=TimestamptzNow())),
        ("revoked_at", Timestamptz, params(default=None, null=True)),
    ),
    ("Link", "link"): (
        ("id", UUID, _id()),
        ("partner", ForeignKey, _foreign_key(Partner)),
        ("business", ForeignKey, _foreign_key(Business)),
        ("client", ForeignKey, _foreign_key(Client)),
        ("access_level", Varchar, params(length=16, default="")),
        ("status", Varchar, params(length=16, default="active")),
        ("created_by", Varchar, params(length=255, default="")),
        ("created_at", Timestamptz, params(default=TimestamptzNow())),
        ("revoked_at", Timestamptz, params(default=None, null=True)),
    ),
    ("Invitation", "invitation"): (
        ("id", UUID, _id()),
        ("partner", ForeignKey, _foreign_key(Partner)),
        ("client", ForeignKey, _foreign_key(Client)),
        ("status", Varchar, params(length=16, default="pending")),
        ("email", Varchar, params(length=254, default="")),
        ("language", Varchar, params(length=2, default="en")),
        ("message", Text, params(default=None, null=True)),
        ("access_level", Varchar, params(length=16, default="")),
        ("token_id", Varchar, params(length=32, default="", unique=True)),
        ("token_kid", Varchar, params(length=64, default="")),
        ("replaces", UUID, params(default=None, null=True)),
        ("created_by", Varchar, params(length=255, default="")),
        ("created_at", Timestamptz, params(default=TimestamptzNow())),
        ("expires_at", Timestamptz, params(default=TimestamptzNow())),
        ("opened_at", Timestamptz, params(default=None, null=True)),
        ("accepted_at", Timestamptz, params(default=None, null=True)),
        ("accepted_by", Varchar, params(length=255, default=None, null=True)),
        ("declined_at", Timestamptz, params(default=None, null=True)),
        ("revoked_at", Timestamptz, params(default=None, null=True)),
        ("link", UUID, params(default=None, null=True)),
        ("email_status", Varchar, params(length=16, default="queued")),
        ("email_error", Text, params(default=None, null=True)),
    ),
    ("QRGrant", "qr_grant"): (
        ("id", UUID, _id()),
        ("invitation", ForeignKey, _foreign_key(Invitation)),
        ("token_id", Varchar, params(length=32, default="", unique=True)),
        ("token_kid", Varchar, params(length=64, default="")),
        ("user_code", Varchar, params(length=8, default="", index=True)),
        ("created_at", Timestamptz, params(default=TimestamptzNow())),
        ("expires_at", Timestamptz, params(default=TimestamptzNow())),
    ),
    ("Business", "business"): (
        ("id", UUID, _id()),
        ("name", Varchar, params(length=200, default="")),
        ("vat_number", Varchar, params(length=32, default=None, null=True)),
        ("country", Varchar, params(length=2, default=None, null=True)),
        ("created_at", Timestamptz, params(default=TimestamptzNow())),
    ),
    ("UserCodeAttempt", "user_code_attempt"): (
        ("id", BigSerial, params(primary_key=True)),
        ("user_sub", Varchar, params(length=255, default="", index=True)),
        ("at", Timestamptz, params(default=TimestamptzNow())),
    ),
}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="invites", description=DESCRIPTION)
    for class_name, tablename in TABLES:
        manager.add_table(class_name=class_name, tablename=tablename, schema=None, columns=None)
    for (class_name, tablename), columns in TABLES.items():
        add_columns(manager, class_name, tablename, columns)
    return manager
