"""Migrations fill or mend what they change for rows that existed before them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BEFORE_CLIENT_PAGE = "2026-11-28T11:10:00:000000"

SCRIPT = """
import asyncio, json, sys, uuid
from datetime import datetime, timezone
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.querystring import QueryString
from db.piccolo_conf import DB

async def main():
    await run_forwards(app_name="invites", migration_id=sys.argv[1])
    p, c1, c2, reg, inv = (str(uuid.uuid4()) for _ in range(5))
    now = datetime(2026, 11, 30, tzinfo=timezone.utc).isoformat()
    sql = [
        ("INSERT INTO partner (id, name, event_seq, created_at, revision)"
         " VALUES (?, 'P', 3, ?, 3)", (p, now)),
        ("INSERT INTO client (id, partner, name, email, language, vat_number, status,"
         " latest_invitation, created_at, updated_at) VALUES"
         " (?, ?, 'Bäckerei Müller', 'm@x.example', 'de', 'BE 0123.456.789', 'invited', ?, ?, ?)",
         (c1, p, inv, now, now)),
        ("INSERT INTO client (id, partner, name, status, created_at, updated_at)"
         " VALUES (?, ?, 'Via Link', 'inactive', ?, ?)", (c2, p, now, now)),
        ("INSERT INTO invitation (id, partner, client, status, email, language, access_level,"
         " token_id, token_kid, created_by, created_at, expires_at, email_status)"
         " VALUES (?, ?, ?, 'pending', 'm@x.example', 'de', 'full', 't1', 'k', 'u', ?, ?,"
         " 'sent')", (inv, p, c1, now, now)),
        ("INSERT INTO event (partner, seq, type, at, client, data) VALUES"
         " (?, 1, 'client.created', ?, ?, ?)",
         (p, now, c2, json.dumps({"registration_link_id": reg, "business_id": p}))),
        ("INSERT INTO event (partner, seq, type, at, client, data) VALUES"
         " (?, 2, 'client.deactivated', ?, ?, ?)", (p, now, c2, json.dumps({"by": "business"}))),
    ]
    for statement, values in sql:
        await DB.run_querystring(QueryString(statement.replace("?", "{}"), *values))
    await run_forwards(app_name="invites", migration_id="all")
    rows = await DB.run_querystring(QueryString(
        "SELECT name, source, registration_link, disconnected_at, disconnected_by, invited_at,"
        " name_key, search_text, vat_key FROM client ORDER BY name"))
    print(json.dumps([{k: str(v) if v is not None else None for k, v in dict(r).items()}
                      for r in rows] + [reg]))

asyncio.run(main())
"""


def migrated(tmp_path: Path, script: str, before: str) -> Any:
    """What `script` prints (JSON, its last line) run on a new SQLite file: migrated up to
    `before`, given the rows the script writes, then migrated to the end."""
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'old.db'}",
        "PICCOLO_CONF": "db.piccolo_conf",
    }
    result = subprocess.run(
        [sys.executable, "-c", script, before],
        cwd=Path(__file__).parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_client_page_migration_fills_existing_clients(tmp_path: Path) -> None:
    *rows, registration_link = migrated(tmp_path, SCRIPT, BEFORE_CLIENT_PAGE)
    muller, via_link = rows
    assert muller["name_key"] == "backerei muller"
    assert muller["search_text"] == "backerei muller\nm@x.example\n"
    assert muller["vat_key"] == "be0123456789"
    assert muller["source"] == "manual" and muller["disconnected_at"] is None
    assert muller["invited_at"] is not None and muller["invited_at"].startswith("2026-11-30")
    assert via_link["source"] == "registration_link"
    assert via_link["registration_link"] == registration_link
    assert via_link["disconnected_by"] == "business" and via_link["disconnected_at"]


BEFORE_NAME_KEY_CUT = "2026-12-03T16:40:00:000000"

CUT_SCRIPT = """
import asyncio, json, sys, uuid
from datetime import datetime, timezone
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.querystring import QueryString
from db.piccolo_conf import DB

async def main():
    await run_forwards(app_name="invites", migration_id=sys.argv[1])
    p, long_one, short_one = (str(uuid.uuid4()) for _ in range(3))
    now = datetime(2026, 12, 1, tzinfo=timezone.utc).isoformat()
    await DB.run_querystring(QueryString(
        "INSERT INTO partner (id, name, event_seq, created_at, revision) VALUES ({}, 'P', 0, {}, 0)",
        p, now))
    for client, name, key in ((long_one, "㍿" * 100, "株式会社" * 100), (short_one, "Short", "short")):
        await DB.run_querystring(QueryString(
            "INSERT INTO client (id, partner, name, status, created_at, updated_at, name_key)"
            " VALUES ({}, {}, {}, 'inactive', {}, {}, {})", client, p, name, now, now, key))
    await run_forwards(app_name="invites", migration_id="all")
    rows = await DB.run_querystring(QueryString("SELECT name_key FROM client ORDER BY name_key"))
    print(json.dumps([r["name_key"] for r in rows]))

asyncio.run(main())
"""


def test_name_keys_kept_longer_than_their_column_are_cut(tmp_path: Path) -> None:
    """SQLite kept a folded name key of any length; the migration cuts it to 200."""
    assert migrated(tmp_path, CUT_SCRIPT, BEFORE_NAME_KEY_CUT) == ["short", "株式会社" * 50]


BEFORE_REFOLD = "2026-12-04T19:20:00:000000"

REFOLD_SCRIPT = """
import asyncio, json, sys, uuid
from datetime import datetime, timezone
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.querystring import QueryString
from db.piccolo_conf import DB

async def main():
    await run_forwards(app_name="invites", migration_id=sys.argv[1])
    p = str(uuid.uuid4())
    now = datetime(2026, 12, 1, tzinfo=timezone.utc).isoformat()
    await DB.run_querystring(QueryString(
        "INSERT INTO partner (id, name, event_seq, created_at, revision) VALUES ({}, 'P', 0, {}, 0)",
        p, now))
    for name, key, vat in (("Cœur de Bœuf", "cœur de bœuf", "dk-ø1"), ("Plain", "plain", "")):
        await DB.run_querystring(QueryString(
            "INSERT INTO client (id, partner, name, vat_number, status, created_at, updated_at,"
            " name_key, search_text, vat_key) VALUES ({}, {}, {}, {}, 'inactive', {}, {}, {}, {}, {})",
            str(uuid.uuid4()), p, name, vat or None, now, now, key, key + "\\n\\n", vat.replace("-", "")))
    await run_forwards(app_name="invites", migration_id="all")
    rows = await DB.run_querystring(QueryString(
        "SELECT name_key, search_text, vat_key FROM client ORDER BY name_key"))
    print(json.dumps([[r["name_key"], r["search_text"], r["vat_key"]] for r in rows]))

asyncio.run(main())
"""


def test_search_keys_written_before_letters_were_spelt_out_are_folded_again(
    tmp_path: Path,
) -> None:
    assert migrated(tmp_path, REFOLD_SCRIPT, BEFORE_REFOLD) == [
        ["coeur de boeuf", "coeur de boeuf\n\n", "dko1"],
        ["plain", "plain\n\n", ""],
    ]
