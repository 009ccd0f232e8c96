"""Webhook endpoints and their deliveries; `partner.webhooks` counts a partner's enabled
endpoints, so that recording events costs nothing more for a partner without any.

The tables are frozen copies of those in `db.tables` as of this migration, created with
Piccolo's DDL for the engine in use; the indexes are raw DDL (the same on both engines).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import (
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
from piccolo.table import Table

from db.migration_steps import add_columns, params

ID = "2026-12-02T17:17:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "webhooks"


class Partner(Table, tablename="partner"):
    id = UUID(primary_key=True)


class WebhookEndpoint(Table, tablename="webhook_endpoint"):
    id = UUID(primary_key=True)
    partner = ForeignKey(references=Partner)
    url = Varchar(length=2000)
    event_types = Text(default="")
    description = Varchar(length=500, null=True, default=None)
    status = Varchar(length=16, default="enabled")
    disabled_reason = Text(null=True, default=None)
    secret = Text()
    previous_secret = Text(null=True, default=None)
    previous_secret_until = Timestamptz(null=True, default=None)
    failing_since = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class WebhookDelivery(Table, tablename="webhook_delivery"):
    id = BigSerial(primary_key=True)
    endpoint = ForeignKey(references=WebhookEndpoint)
    partner = UUID()
    event_seq = BigInt(null=True, default=None)
    type = Varchar(length=40)
    status = Varchar(length=16, default="queued")
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(default=TimestamptzNow())
    locked_until = Timestamptz(null=True, default=None)
    last_error = Text(null=True, default=None)
    last_status_code = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    delivered_at = Timestamptz(null=True, default=None)


INDEXES = (
    "CREATE INDEX webhook_endpoint_partner ON webhook_endpoint (partner, status)",
    # The claim's scan, and an endpoint's delivery log (newest first).
    "CREATE INDEX webhook_delivery_due ON webhook_delivery (status, next_attempt_at)",
    "CREATE INDEX webhook_delivery_endpoint ON webhook_delivery (endpoint, id)",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="invites", description=DESCRIPTION)
    add_columns(manager, "Partner", "partner", [("webhooks", Integer, params(default=0))])

    async def create_tables() -> None:
        from db.piccolo_conf import DB

        for table in (WebhookEndpoint, WebhookDelivery):
            table._meta.db = DB
            await table.create_table()
        for statement in INDEXES:
            await DB.run_ddl(statement)

    manager.add_raw(create_tables)
    return manager
