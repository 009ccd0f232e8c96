"""A partner's client list: create, import, list, read, change, disconnect."""

from __future__ import annotations

import base64
import binascii
import math
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec

from api.errors import invalid, not_found
from api.services import events, views
from api.services.access import partner_revision, require_partner_member
from api.services.context import Context, utcnow
from api.services.events import NewEvent
from api.services.revisions import Versioned
from db import sql
from db.tables import Client, Invitation, Link
from db.transactions import IS_POSTGRES, lock, write_transaction
from mobile_contract import ErrorCode, models

STATUSES = ("inactive", "invited", "active")


async def _load_view(ctx: Context, client_row: dict[str, Any]) -> models.Client:
    invitation_row = None
    if client_row["latest_invitation"] is not None:
        invitation_row = (
            await Invitation.select()
            .where(Invitation.id == client_row["latest_invitation"])
            .first()
        )
    return views.client(ctx, client_row, invitation_row, utcnow())


async def _row(partner_id: UUID, client_id: UUID) -> dict[str, Any]:
    row = (
        await Client.select()
        .where((Client.id == client_id) & (Client.partner == partner_id))
        .first()
    )
    if row is None:
        raise not_found("No such client")
    return row


def _new_client(partner_id: UUID, data: models.ClientCreate, now: datetime) -> models.Client:
    return models.Client(
        id=uuid4(),
        partner_id=partner_id,
        name=data.name.strip(),
        email=data.email,
        language=data.language,
        vat_number=data.vat_number,
        external_ref=data.external_ref,
        status="inactive",
        business_id=None,
        connected_at=None,
        invitation=None,
        created_at=now,
        updated_at=now,
    )


CLIENT_COLUMNS = (
    "id",
    "partner",
    "name",
    "email",
    "language",
    "vat_number",
    "external_ref",
    "status",
    "created_at",
    "updated_at",
)


async def _insert(clients: list[models.Client]) -> None:
    """Insert new clients of one partner, and their `client.created` events (in a few
    statements: an import brings up to 5000)."""
    rows = [
        (
            c.id,
            c.partner_id,
            c.name,
            c.email,
            c.language,
            c.vat_number,
            c.external_ref,
            c.status,
            c.created_at,
            c.updated_at,
        )
        for c in clients
    ]
    await sql.insert("client", CLIENT_COLUMNS, rows)
    await events.record(
        clients[0].partner_id,
        [NewEvent(type="client.created", client=c.id) for c in clients],
        clients[0].created_at,
    )


async def create(
    ctx: Context, user: models.User, partner_id: UUID, data: models.ClientCreate
) -> models.Client:
    await require_partner_member(user.sub, partner_id)
    client = _new_client(partner_id, data, utcnow())
    async with write_transaction():
        await _insert([client])
    ctx.bus.publish(partner_id)
    return client


def _row_error(exc: msgspec.ValidationError) -> models.ItemError:
    return models.ItemError(code=ErrorCode.VALIDATION_FAILED.value, detail=str(exc))


async def import_clients(
    ctx: Context, user: models.User, partner_id: UUID, data: models.ClientImport
) -> models.ImportResponse:
    """Create every valid row; a bad row gets its own error and does not fail the rest."""
    await require_partner_member(user.sub, partner_id)
    now = utcnow()
    results: list[models.ImportResult] = []
    created: list[models.Client] = []
    for index, raw in enumerate(data.clients):
        try:
            client = _new_client(partner_id, msgspec.convert(raw, models.ClientCreate), now)
        except msgspec.ValidationError as exc:
            results.append(models.ImportResult(index=index, error=_row_error(exc)))
            continue
        created.append(client)
        results.append(models.ImportResult(index=index, client=client))
    if created:
        async with write_transaction():
            await _insert(created)
        ctx.bus.publish(partner_id)
    return models.ImportResponse(results=results)


def parse_statuses(value: str | None) -> tuple[str, ...]:
    if not value:
        return STATUSES
    wanted = tuple(dict.fromkeys(s.strip() for s in value.split(",")))
    unknown = [s for s in wanted if s not in STATUSES]
    if unknown:
        raise invalid("status", f"unknown status {unknown[0]!r}; use inactive, invited or active")
    return wanted


def _status_filter(statuses: tuple[str, ...], now: datetime) -> Any:
    still_invited = (Client.status == "invited") & (Client.invitation_expires_at > now)
    conditions = {
        "active": Client.status == "active",
        "invited": still_invited,
        "inactive": (Client.status == "inactive")
        | ((Client.status == "invited") & (Client.invitation_expires_at <= now)),
    }
    combined: Any = None
    for status in statuses:
        combined = conditions[status] if combined is None else combined | conditions[status]
    return combined


def _matches(search: str) -> Any:
    """Case-insensitive substring match on the searchable fields (SQLite's LIKE already
    ignores ASCII case; PostgreSQL needs ILIKE)."""
    pattern = f"%{search}%"
    columns = (Client.name, Client.email, Client.vat_number, Client.external_ref)
    found: Any = None
    for column in columns:
        match = column.ilike(pattern) if IS_POSTGRES else column.like(pattern)
        found = match if found is None else found | match
    return found


def encode_cursor(created_at: datetime, client_id: UUID) -> str:
    raw = msgspec.json.encode([created_at.isoformat(), str(client_id)])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, client_id = msgspec.json.decode(raw, type=tuple[datetime, UUID])
    except (binascii.Error, ValueError, msgspec.DecodeError, msgspec.ValidationError):
        raise invalid("cursor", "not a cursor returned by this endpoint") from None
    if created.tzinfo is None:
        raise invalid("cursor", "not a cursor returned by this endpoint")
    return created, client_id


async def page(
    ctx: Context,
    user: models.User,
    partner_id: UUID,
    *,
    statuses: tuple[str, ...],
    search: str | None,
    limit: int,
    cursor: str | None,
) -> Versioned:
    """Clients oldest first; the cursor is the last row's (created_at, id), so rows added
    while paging appear at the end and none is skipped or repeated. The page is true until
    the partner's revision changes or its next invitation expires."""
    revision = await partner_revision(user.sub, partner_id)
    now = utcnow()
    query = Client.select().where(Client.partner == partner_id)
    if set(statuses) != set(STATUSES):
        query = query.where(_status_filter(statuses, now))
    if search:
        query = query.where(_matches(search))
    if cursor:
        created, last_id = decode_cursor(cursor)
        query = query.where(
            (Client.created_at > created) | ((Client.created_at == created) & (Client.id > last_id))
        )
    rows = await query.order_by(Client.created_at, Client.id).limit(limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    invitation_ids = [r["latest_invitation"] for r in rows if r["latest_invitation"] is not None]
    invitations = {}
    if invitation_ids:
        invitations = {
            r["id"]: r for r in await Invitation.select().where(Invitation.id.is_in(invitation_ids))
        }
    items = [views.client(ctx, r, invitations.get(r["latest_invitation"]), now) for r in rows]
    next_cursor = encode_cursor(rows[-1]["created_at"], rows[-1]["id"]) if more else None
    next_expiry = await (
        Client.select(Client.invitation_expires_at)
        .where(
            (Client.partner == partner_id)
            & (Client.status == "invited")
            & (Client.invitation_expires_at > now)
        )
        .order_by(Client.invitation_expires_at)
        .first()
    )
    valid_until = next_expiry["invitation_expires_at"].timestamp() if next_expiry else math.inf
    page = models.ClientPage(items=items, next_cursor=next_cursor)
    return Versioned(page, revision, valid_until)


async def get(ctx: Context, user: models.User, partner_id: UUID, client_id: UUID) -> models.Client:
    await require_partner_member(user.sub, partner_id)
    return await _load_view(ctx, await _row(partner_id, client_id))


async def patch(
    ctx: Context, user: models.User, partner_id: UUID, client_id: UUID, data: models.ClientPatch
) -> models.Client:
    await require_partner_member(user.sub, partner_id)
    changes: dict[Any, Any] = {
        getattr(Client, name): value.strip() if name == "name" else value
        for name in data.__struct_fields__
        if (value := getattr(data, name)) is not msgspec.UNSET
    }
    async with write_transaction():
        await _row(partner_id, client_id)
        if changes:
            changes[Client.updated_at] = utcnow()
            await Client.update(changes).where(Client.id == client_id)
            await events.touch(partner_id)
        row = await _row(partner_id, client_id)
    return await _load_view(ctx, row)


async def disconnect(
    ctx: Context, user: models.User, partner_id: UUID, client_id: UUID
) -> models.Client:
    """Revoke the client's link; the client becomes `inactive`. Idempotent."""
    await require_partner_member(user.sub, partner_id)
    async with write_transaction():
        await lock(Client, client_id)
        row = await _row(partner_id, client_id)
        if row["status"] == "active":
            now = utcnow()
            links = (
                await Link.update({Link.status: "revoked", Link.revoked_at: now})
                .where((Link.client == client_id) & (Link.status == "active"))
                .returning(Link.id)
            )
            await deactivate(partner_id, client_id, now)
            await events.record(
                partner_id,
                [
                    NewEvent(
                        type="client.deactivated",
                        client=client_id,
                        link=links[0]["id"] if links else None,
                        data={"by": "partner"},
                    )
                ],
                now,
            )
            row = await _row(partner_id, client_id)
    ctx.bus.publish(partner_id)
    return await _load_view(ctx, row)


async def deactivate(partner_id: UUID, client_id: UUID, now: datetime) -> None:
    """Set a client back to `inactive` (no business); inside a transaction."""
    await Client.update(
        {
            Client.status: "inactive",
            Client.business: None,
            Client.connected_at: None,
            Client.updated_at: now,
        }
    ).where((Client.id == client_id) & (Client.partner == partner_id))
