"""The yardsticks: the service's own SQL for a confirm, an import and a bulk invite,
issued straight on asyncpg (no HTTP, no framework), with a pool like the service's."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from api.services import events, grants, invitations, mobile, spaces
from api.services.clients import CLIENT_COLUMNS
from api.settings import Settings
from api.tokens import new_token_id
from db.sql import insert_batches


async def _pool(database_url: str) -> asyncpg.Pool:
    async def no_reset(_connection: Any) -> None:
        pass

    size = int(os.environ.get("DATABASE_POOL_SIZE", Settings().database_pool_size))
    return await asyncpg.create_pool(database_url, min_size=size, max_size=size, reset=no_reset)


async def _events(
    connection: asyncpg.Connection, partner: UUID, rows: list[tuple[Any, ...]], now: datetime
) -> None:
    """events.record: the partner's numbers, then the rows."""
    bumped = await connection.fetchrow(events.BUMP.compiled, len(rows), partner)
    first = bumped["event_seq"] - len(rows) + 1
    values = [
        (partner, first + i, kind, now, client, invitation, link, data)
        for i, (kind, client, invitation, link, data) in enumerate(rows)
    ]
    await _insert(connection, "event", events.EVENT_COLUMNS, values)


async def _insert(
    connection: asyncpg.Connection, table: str, columns: tuple[str, ...], rows: list[Any]
) -> None:
    """db.sql.insert, straight on `connection`: the same statements."""
    for statement, values in insert_batches(table, columns, rows):
        await connection.execute(statement.compiled, *values)


async def _confirm(pool: asyncpg.Pool, token_id: str, user: str) -> None:
    """What `mobile.confirm` runs for an invitation token and a new business."""
    async with pool.acquire() as connection:
        invitation = await connection.fetchrow(grants.INVITATION_BY_TOKEN.compiled, token_id)
    async with pool.acquire() as connection, connection.transaction():
        await connection.fetch(mobile.LOCK_CLIENT.compiled, invitation["client"])
        invitation = await connection.fetchrow(
            mobile.INVITATION_FOR_UPDATE.compiled, invitation["id"]
        )
        now = datetime.now(UTC)
        business, link = uuid4(), uuid4()
        await connection.execute(
            spaces.INSERT_BUSINESS.compiled, business, "Bench Bakery", None, None, now
        )
        await connection.execute(
            spaces.INSERT_BUSINESS_ADMIN.compiled, uuid4(), business, user, now
        )
        client, partner = invitation["client"], invitation["partner"]
        await connection.execute(
            mobile.INSERT_LINK.compiled,
            link,
            partner,
            business,
            client,
            invitation["access_level"],
            user,
            now,
        )
        await connection.execute(
            mobile.ACCEPT_INVITATION.compiled, now, user, link, invitation["id"]
        )
        await connection.execute(mobile.ACTIVATE_CLIENT.compiled, business, now, now, client)
        data = f'{{"business_id": "{business}"}}'
        await _events(
            connection,
            partner,
            [
                (kind, client, invitation["id"], link, data)
                for kind in ("invitation.accepted", "client.activated")
            ],
            now,
        )


async def confirms(
    database_url: str, partner_id: str, *, seconds: float, concurrency: int
) -> float:
    """Confirms per second of the partner's pending invitations, `concurrency` at once."""
    pool = await _pool(database_url)
    try:
        async with pool.acquire() as connection:
            rows = await connection.fetch(
                "SELECT token_id FROM invitation WHERE partner = $1 AND status = 'pending'",
                UUID(partner_id),
            )
        tokens = iter([r["token_id"] for r in rows])
        done = 0
        deadline = time.perf_counter() + seconds

        async def confirmer() -> None:
            nonlocal done
            for token in tokens:
                if time.perf_counter() >= deadline:
                    return
                await _confirm(pool, token, "bench-direct")
                done += 1
            raise RuntimeError("out of tokens before the time was up")

        started = time.perf_counter()
        await asyncio.gather(*(confirmer() for _ in range(concurrency)))
        return done / (time.perf_counter() - started)
    finally:
        await pool.close()


async def _partner(connection: asyncpg.Connection) -> UUID:
    partner = uuid4()
    await connection.execute(
        "INSERT INTO partner (id, name, event_seq, revision, created_at) VALUES ($1, 'Direct', 0, 0, now())",
        partner,
    )
    return partner


def _clients(partner: UUID, count: int, now: datetime) -> list[tuple[Any, ...]]:
    return [
        (
            uuid4(),
            partner,
            f"Client {i}",
            f"client{i}@bench.example",
            "en",
            f"BE0{i:09d}",
            f"R-{i}",
            "inactive",
            now,
            now,
        )
        for i in range(count)
    ]


@contextlib.asynccontextmanager
async def _fresh_partner(
    database_url: str, count: int
) -> AsyncIterator[tuple[asyncpg.Connection, UUID, list[tuple[Any, ...]], datetime]]:
    """A connection, a new partner and `count` client rows for it (not yet inserted)."""
    connection = await asyncpg.connect(database_url)
    try:
        partner = await _partner(connection)
        now = datetime.now(UTC)
        yield connection, partner, _clients(partner, count, now), now
    finally:
        await connection.close()


async def import_clients(database_url: str, count: int) -> float:
    """Seconds to insert `count` client rows and their events in one transaction."""
    async with _fresh_partner(database_url, count) as (connection, partner, rows, now):
        started = time.perf_counter()
        async with connection.transaction():
            await _insert(connection, "client", CLIENT_COLUMNS, rows)
            await _events(
                connection, partner, [("client.created", r[0], None, None, "{}") for r in rows], now
            )
        return time.perf_counter() - started


async def invite(database_url: str, count: int) -> float:
    """Seconds to write what a bulk invite of `count` clients writes, in one transaction."""
    async with _fresh_partner(database_url, count) as (connection, partner, clients, now):
        async with connection.transaction():
            await _insert(connection, "client", CLIENT_COLUMNS, clients)
        expires = now + timedelta(days=30)
        rows = [
            (
                uuid4(),
                partner,
                c[0],
                "pending",
                c[3],
                "en",
                "Welcome!",
                "full",
                new_token_id(),
                "kid",
                None,
                "bench",
                now,
                expires,
                None,
                None,
                None,
                None,
                None,
                None,
                "queued",
                None,
            )
            for c in clients
        ]
        columns = (
            "id",
            "partner",
            "client",
            "status",
            "email",
            "language",
            "message",
            "access_level",
            "token_id",
            "token_kid",
            "replaces",
            "created_by",
            "created_at",
            "expires_at",
            "opened_at",
            "accepted_at",
            "accepted_by",
            "declined_at",
            "revoked_at",
            "link",
            "email_status",
            "email_error",
        )
        started = time.perf_counter()
        async with connection.transaction():
            await connection.fetch(
                "SELECT id FROM client WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
                [c[0] for c in clients],
            )
            await connection.fetch(
                "SELECT * FROM client WHERE partner = $1 AND id = ANY($2::uuid[])",
                partner,
                [c[0] for c in clients],
            )
            await _insert(connection, "invitation", columns, rows)
            # Marked sent: not for the service's worker to send.
            outbox = [(r[0], "invite", "sent", 0, now, now) for r in rows]
            await _insert(connection, "mail_outbox", invitations.OUTBOX_COLUMNS, outbox)
            await connection.execute(
                invitations.mark_invited(len(rows)).compiled, expires, now, *(c[0] for c in clients)
            )
            await _events(
                connection,
                partner,
                [("invitation.created", r[2], r[0], None, "{}") for r in rows],
                now,
            )
        return time.perf_counter() - started
