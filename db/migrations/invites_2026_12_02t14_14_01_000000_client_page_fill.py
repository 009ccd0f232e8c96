"""Fill the client columns of the previous migration for existing rows, and index them.

- `name_key`, `search_text`, `vat_key`: folded by `db.search`, the rule the service keeps.
- `invited_at`: when the client's latest invitation was made.
- `source`: `registration_link` (with the link) for clients a registration link created,
  as their `client.created` event says; `manual` for the rest (an import was not told
  apart before).
- `disconnected_at`, `disconnected_by`: the latest `client.deactivated` event of a client
  that is not active.

On PostgreSQL, trigram indexes (`pg_trgm`) serve the `LIKE '%…%'` of search.
"""

from typing import Any
from uuid import UUID

import msgspec
from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from db.search import client_keys

ID = "2026-12-02T14:14:01:000000"
VERSION = "1.38.0"
DESCRIPTION = "fill and index the client page columns"

INDEXES = (
    "CREATE INDEX client_partner_name ON client (partner, name_key, id)",
    "CREATE INDEX client_partner_invited_at ON client (partner, invited_at, id)",
    "CREATE INDEX client_partner_expires_at ON client (partner, invitation_expires_at, id)",
    "CREATE INDEX invitation_partner_client ON invitation (partner, client, created_at)",
    "CREATE UNIQUE INDEX idempotency_key_unique ON idempotency_key (user_sub, path, key)",
    "CREATE INDEX idempotency_key_created ON idempotency_key (created_at)",
)
POSTGRES_INDEXES = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX client_search_text_trgm ON client USING gin (search_text gin_trgm_ops)",
    "CREATE INDEX client_vat_key_trgm ON client USING gin (vat_key gin_trgm_ops)",
)


def _data(value: Any) -> dict[str, Any]:
    decoded = msgspec.json.decode(value) if isinstance(value, (str, bytes)) else value
    return decoded if isinstance(decoded, dict) else {}


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="invites", description=DESCRIPTION)

    async def fill_and_index() -> None:
        from db.piccolo_conf import DB
        from db.tables import Client

        rows = await Client.raw("SELECT id, name, email, vat_number, external_ref FROM client")
        for r in rows:
            keys = client_keys(r["name"], r["email"], r["vat_number"], r["external_ref"])
            await Client.raw(
                "UPDATE client SET name_key = {}, search_text = {}, vat_key = {} WHERE id = {}",
                keys["name_key"],
                keys["search_text"],
                keys["vat_key"],
                r["id"],
            )
        await Client.raw(
            "UPDATE client SET invited_at = (SELECT invitation.created_at FROM invitation"
            " WHERE invitation.id = client.latest_invitation)"
        )
        created = await Client.raw(
            "SELECT client, data FROM event WHERE type = 'client.created' AND client IS NOT NULL"
        )
        for r in created:
            link = _data(r["data"]).get("registration_link_id")
            if link:
                await Client.raw(
                    "UPDATE client SET source = 'registration_link', registration_link = {}"
                    " WHERE id = {}",
                    UUID(str(link)),
                    r["client"],
                )
        ended = await Client.raw(
            "SELECT client, at, data FROM event WHERE type = 'client.deactivated'"
            " AND client IS NOT NULL ORDER BY partner, seq"
        )
        latest = {r["client"]: r for r in ended}
        for client_id, r in latest.items():
            await Client.raw(
                "UPDATE client SET disconnected_at = {}, disconnected_by = {}"
                " WHERE id = {} AND status <> 'active'",
                r["at"],
                _data(r["data"]).get("by", "partner"),
                client_id,
            )
        for statement in INDEXES + (POSTGRES_INDEXES if DB.engine_type == "postgres" else ()):
            await DB.run_ddl(statement)

    manager.add_raw(fill_and_index)
    return manager
