"""Composite and partial unique indexes, and the indexes behind the hot queries.

The same DDL runs on SQLite and PostgreSQL (both support partial indexes).
"""

from db.migration_steps import sql_migration

ID = "2026-11-28T08:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "unique and partial indexes"

STATEMENTS = (
    # A user is a member of a partner or business once.
    "CREATE UNIQUE INDEX partner_member_unique ON partner_member (partner, user_sub)",
    "CREATE UNIQUE INDEX business_member_unique ON business_member (business, user_sub)",
    # Active links are unique per (partner, business).
    "CREATE UNIQUE INDEX link_active_unique ON link (partner, business) WHERE status = 'active'",
    # One pending invitation per client.
    "CREATE UNIQUE INDEX invitation_pending_unique ON invitation (client) WHERE status = 'pending'",
    # Events are numbered per partner without gaps; this is also the cursor index.
    "CREATE UNIQUE INDEX event_partner_seq ON event (partner, seq)",
    # The client list pages by (created_at, id) within a partner.
    "CREATE INDEX client_partner_created ON client (partner, created_at, id)",
    "CREATE INDEX invitation_client_created ON invitation (client, created_at)",
    "CREATE INDEX link_business ON link (business)",
    "CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at)",
    "CREATE INDEX user_code_attempt_at ON user_code_attempt (user_sub, at)",
)

forwards = sql_migration(ID, DESCRIPTION, *STATEMENTS)
