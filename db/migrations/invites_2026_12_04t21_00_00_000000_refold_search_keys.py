"""Client search keys folded again: letters that no decomposition takes apart (`œ`, `æ`,
`ø`, `ł`, …) are now spelt out (`db.search.fold`), so `coeur` finds `Cœur`. Keys written
before keep the old spelling until this rewrites them; only rows whose keys change are
written, a page of clients at a time. It folds by the service's rule as it is when it
runs (a later change of the rule comes with its own such migration; this one running
again then is harmless)."""

from typing import Any

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.querystring import QueryString

from db.search import client_keys

ID = "2026-12-04T21:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "client search keys folded again"

PAGE = 1000
COLUMNS = "id, name, email, vat_number, external_ref, name_key, search_text, vat_key"


async def refold() -> None:
    from db.piccolo_conf import DB

    last: Any = None
    while True:
        after = "" if last is None else "WHERE id > {} "
        rows = await DB.run_querystring(
            QueryString(
                f"SELECT {COLUMNS} FROM client {after}ORDER BY id LIMIT {PAGE}",
                *([] if last is None else [last]),
            )
        )
        for r in rows:
            keys = client_keys(r["name"], r["email"], r["vat_number"], r["external_ref"])
            if any(r[column] != value for column, value in keys.items()):
                await DB.run_querystring(
                    QueryString(
                        "UPDATE client SET name_key = {}, search_text = {}, vat_key = {}"
                        " WHERE id = {}",
                        keys["name_key"],
                        keys["search_text"],
                        keys["vat_key"],
                        r["id"],
                    )
                )
        if len(rows) < PAGE:
            return
        last = rows[-1]["id"]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="invites", description=DESCRIPTION)
    manager.add_raw(refold)
    return manager
