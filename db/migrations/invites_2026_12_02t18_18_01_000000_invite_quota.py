"""Invitation emails counted per partner and day (`INVITES_PER_PARTNER_PER_DAY`): one row
per partner, taken with one conditional UPDATE."""

from db.migration_steps import sql_migration

ID = "2026-12-02T18:18:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "invite quota"

STATEMENTS = (
    "CREATE TABLE invite_quota (partner UUID PRIMARY KEY REFERENCES partner (id),"
    " day VARCHAR(10) NOT NULL, sent INTEGER NOT NULL)",
)

forwards = sql_migration(ID, DESCRIPTION, *STATEMENTS)
