"""Typed-code budgets as one counted row per budget (a user, a client address, everyone),
taken with one conditional UPDATE, in place of one row per wrong code; typed codes unique
(the older of two grants that share a code is dropped first)."""

from db.migration_steps import sql_migration

ID = "2026-12-02T18:18:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "code budgets, unique user codes"

STATEMENTS = (
    "CREATE TABLE code_budget (scope VARCHAR(300) PRIMARY KEY,"
    " window_start TIMESTAMPTZ NOT NULL, attempts INTEGER NOT NULL)",
    "DROP TABLE user_code_attempt",
    "DELETE FROM qr_grant WHERE EXISTS (SELECT 1 FROM qr_grant newer"
    " WHERE newer.user_code = qr_grant.user_code AND newer.created_at > qr_grant.created_at)",
    "DROP INDEX qr_grant_user_code",
    "CREATE UNIQUE INDEX qr_grant_user_code ON qr_grant (user_code)",
)

forwards = sql_migration(ID, DESCRIPTION, *STATEMENTS)
