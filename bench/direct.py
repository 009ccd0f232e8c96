"""The yardsticks: the service's own SQL for a confirm, an import and a bulk invite,
issued straight on asyncpg (no HTTP, no framework), with a pool like the service's."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from api.settings import load_settings
from api.tokens import new_token_id
from db import search, statements
from db.sql import Insert, insert_batches
from db.tables import Client, Partner
from db.transactions import lock_statement

DIRECT_USER = "bench-direct"  # the confirming user: one business each confirm


async def _pool(database_url: str) -> asyncpg.Pool:
    async def no_reset(_connection: Any) -> None:
        pass

    size = load_settings().database_pool_size
    return await asyncpg.create_pool(database_url, min_size=size, max_size=size, reset=no_reset)


async def _events(
    connection: asyncpg.Connection, partner: UUID, rows: list[tuple[Any, ...]], now: datetime
) -> None:
    """What the unit of work records: the partner's numbers, then the rows."""
    bumped = await connection.fetchrow(statements.BUMP_PARTNER.compiled, len(rows), partner)
    first = bumped["event_seq"] - len(rows) + 1
    values = [
        (partner, first + i, kind, now, client, invitation, link, data)
        for i, (kind, client, invitation, link, data) in enumerate(rows)
    ]
    await _insert(connection, statements.EVENT_INSERT, values)


async def _insert(connection: asyncpg.Connection, target: Insert, rows: list[Any]) -> None:
    """db.sql.insert, straight on `connection`: the same statements."""
    for statement, values in insert_batches(target, rows):
        await connection.execute(statement.compiled, *values)


async def _confirm(pool: asyncpg.Pool, token_id: str, user: str) -> None:
    """What `mobile.confirm` runs for an invitation token and a new business."""
    async with pool.acquire() as connection:
        invitation = await connection.fetchrow(statements.INVITATION_BY_TOKEN.compiled, token_id)
    async with pool.acquire() as connection, connection.transaction():
        await connection.fetch(lock_statement(Client, 1).compiled, invitation["client"])
        invitation = await connection.fetchrow(statements.INVITATION.compiled, invitation["id"])
        now = datetime.now(UTC)
        business, link = uuid4(), uuid4()
        await connection.execute(
            statements.INSERT_BUSINESS.compiled, business, "Bench Bakery", None, None, now
        )
        await connection.execute(
            statements.INSERT_BUSINESS_ADMIN.compiled, uuid4(), business, user, now
        )
        client, partner = invitation["client"], invitation["partner"]
        access = invitation["access_level"]
        await connection.execute(
            statements.INSERT_LINK.compiled,
            link,
            partner,
            business,
            client,
            access,
            user,
            now,
        )
        await connection.execute(
            statements.ACCEPT_INVITATION.compiled, now, user, link, invitation["id"]
        )
        await connection.execute(statements.ACTIVATE_CLIENT.compiled, business, now, now, client)
        # The new business's admins whose email the service knows are told (access notices),
        # before the events take the partner row, as in the service.
        admins = await connection.fetch(statements.ADMINS_TO_TELL.compiled, business)
        granted_by = f"{user}@bench.example"  # what the service writes: the user's email
        notices = [
            (link, partner, business, a["email"], a["language"], access, granted_by, now, now, now)
            for a in admins
        ]
        if notices:
            await _insert(connection, statements.ACCESS_NOTICE_INSERT, notices)
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
            # Known by email, as the API's confirming user is from its requests: each new
            # business's admin is told (an access notice), in both.
            await connection.execute(
                statements.REMEMBER_USER.compiled,
                DIRECT_USER,
                f"{DIRECT_USER}@bench.example",
                None,
                datetime.now(UTC),
                None,
            )
        tokens = iter([r["token_id"] for r in rows])
        done = 0
        deadline = time.perf_counter() + seconds

        async def confirmer() -> None:
            nonlocal done
            for token in tokens:
                if time.perf_counter() >= deadline:
                    return
                await _confirm(pool, token, DIRECT_USER)
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
            "import",
            *search.client_keys(
                f"Client {i}", f"client{i}@bench.example", f"BE0{i:09d}", f"R-{i}"
            ).values(),
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
            await _insert(connection, statements.CLIENT_INSERT, rows)
            await _events(
                connection, partner, [("client.created", r[0], None, None, "{}") for r in rows], now
            )
        return time.perf_counter() - started


async def invite(database_url: str, count: int) -> float:
    """Seconds to write what a bulk invite of `count` clients writes, in one transaction."""
    async with _fresh_partner(database_url, count) as (connection, partner, clients, now):
        async with connection.transaction():
            await _insert(connection, statements.CLIENT_INSERT, clients)
        expires = now + timedelta(days=30)
        template = {column: None for column in statements.INVITATION_INSERT.columns} | {
            "status": "pending",
            "language": "en",
            "message": "Welcome!",
            "access_level": "full",
            "token_kid": "kid",
            "created_by": "bench",
            "created_at": now,
            "expires_at": expires,
            "email_status": "queued",
            "reminders_sent": 0,
            "next_reminder_at": now + timedelta(days=3),  # the default schedule's first
        }
        invited = [
            template
            | {"id": uuid4(), "partner": partner, "client": c[0], "email": c[3]}
            | {"token_id": new_token_id()}
            for c in clients
        ]
        rows = [tuple(i.values()) for i in invited]
        started = time.perf_counter()
        async with connection.transaction():
            await connection.fetch(
                lock_statement(Client, len(clients)).compiled, *(c[0] for c in clients)
            )
            await connection.fetch(
                "SELECT * FROM client WHERE partner = $1 AND id = ANY($2::uuid[])",
                partner,
                [c[0] for c in clients],
            )
            # The schedule read under the partner row, as `reminders.schedule_in_force`.
            await connection.fetch(lock_statement(Partner, 1).compiled, partner)
            await connection.fetch("SELECT reminder_days FROM partner WHERE id = $1", partner)
            await _insert(connection, statements.INVITATION_INSERT, rows)
            # Marked sent: not for the service's worker to send.
            outbox = [(i["id"], "invite", "sent", 0, now, now) for i in invited]
            await _insert(connection, statements.OUTBOX_INSERT, outbox)
            await connection.execute(
                statements.mark_invited(len(rows)).compiled,
                expires,
                now,
                now,
                *(c[0] for c in clients),
            )
            await _events(
                connection,
                partner,
                [("invitation.created", i["client"], i["id"], None, "{}") for i in invited],
                now,
            )
        return time.perf_counter() - started
