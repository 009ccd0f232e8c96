"""Webhook endpoints and their deliveries; `partner.webhooks` counts a partner's enabled
endpoints, so that recording events costs nothing more for a partner without any.

The tables are frozen copies of those in `db.tables` as of this migration, declared with
rows like the initial schema's (`db.migration_steps.frozen_table`) and created with
Piccolo's DDL for the engine in use; the indexes are raw DDL (the same on both engines).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import column_types as ct
from piccolo.columns.defaults.timestamptz import TimestamptzNow

from db.migration_steps import add_columns, frozen_table, params

ID = "2026-12-02T17:17:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "webhooks"

Partner = frozen_table("Partner", "partner", [("id", ct.UUID, params(primary_key=True))])

# Each row gives a column's arguments as they were declared. `params` fills in the common
# ones with most columns' defaults, but a foreign key's `null` defaults to True, so it is
# written out.
WebhookEndpoint = frozen_table(
    "WebhookEndpoint",
    "webhook_endpoint",
    [
        ("id", ct.UUID, params(primary_key=True)),
        ("partner", ct.ForeignKey, params(references=Partner, null=True)),
        ("url", ct.Varchar, params(length=2000)),
        ("event_types", ct.Text, params(default="")),
        ("description", ct.Varchar, params(length=500, null=True, default=None)),
        ("status", ct.Varchar, params(length=16, default="enabled")),
        ("disabled_reason", ct.Text, params(null=True, default=None)),
        ("secret", ct.Text, params()),
        ("previous_secret", ct.Text, params(null=True, default=None)),
        ("previous_secret_until", ct.Timestamptz, params(null=True, default=None)),
        ("failing_since", ct.Timestamptz, params(null=True, default=None)),
        ("created_at", ct.Timestamptz, params(default=TimestamptzNow())),
    ],
)

WebhookDelivery = frozen_table(
    "WebhookDelivery",
    "webhook_delivery",
    [
        ("id", ct.BigSerial, params(primary_key=True)),
        ("endpoint", ct.ForeignKey, params(references=WebhookEndpoint, null=True)),
        ("partner", ct.UUID, params()),
        ("event_seq", ct.BigInt, params(null=True, default=None)),
        ("type", ct.Varchar, params(length=40)),
        ("status", ct.Varchar, params(length=16, default="queued")),
        ("attempts", ct.Integer, params(default=0)),
        ("next_attempt_at", ct.Timestamptz, params(default=TimestamptzNow())),
        ("locked_until", ct.Timestamptz, params(null=True, default=None)),
        ("last_error", ct.Text, params(null=True, default=None)),
        ("last_status_code", ct.Integer, params(null=True, default=None)),
        ("created_at", ct.Timestamptz, params(default=TimestamptzNow())),
        ("delivered_at", ct.Timestamptz, params(null=True, default=None)),
    ],
)


INDEXES = (
    "CREATE INDEX webhook_endpoint_partner ON webhook_endpoint (partner, status)",
    # The claim's scan, and an endpoint's delivery log (newest first).
    "CREATE INDEX webhook_delivery_due ON webhook_delivery (status, next_attempt_at)",
    "CREATE INDEX webhook_delivery_endpoint ON webhook_delivery (endpoint, id)",
)


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="invites", description=DESCRIPTION)
    add_columns(manager, "Partner", "partner", [("webhooks", ct.Integer, params(default=0))])

    async def create_tables() -> None:
        from db.piccolo_conf import DB

        for table in (WebhookEndpoint, WebhookDelivery):
            table._meta.db = DB
            await table.create_table()
        for statement in INDEXES:
            await DB.run_ddl(statement)

    manager.add_raw(create_tables)
    return manager
