"""Client name keys cut to their column's length (`db.search.name_key`). SQLite does not
hold a `varchar` to its length: a name whose folded key outgrew 200 characters (folding
spells "㍿" as four) kept its key whole there, and paging by name after such a client read
it again. PostgreSQL refused such clients, so there this changes nothing."""

from db.migration_steps import sql_migration

ID = "2026-12-04T19:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "client name keys cut to their column"

forwards = sql_migration(
    ID,
    DESCRIPTION,
    "UPDATE client SET name_key = substr(name_key, 1, 200) WHERE length(name_key) > 200",
)
