"""A partner's client list: create, import, list, read, change, disconnect."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec
from piccolo.columns import Column

from api.errors import invalid, not_found
from api.services import views
from api.services.access import partner_revision, require_partner_member
from api.services.changes import PartnerChange, partner_change
from api.services.context import Context, utcnow
from api.services.revisions import Versioned
from db import sql, statements
from db.tables import Client, Invitation, Link
from db.transactions import IS_POSTGRES, lock
from mobile_contract import ErrorCode, EventType, models

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
        status=models.ClientStatus.INACTIVE,
        business_id=None,
        connected_at=None,
        invitation=None,
        created_at=now,
        updated_at=now,
    )


async def _insert(change: PartnerChange, clients: list[models.Client]) -> None:
    """Insert new clients of the changed partner (in a few statements: an import brings up
    to 5000)."""
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
    await sql.insert(statements.CLIENT_INSERT, rows)
    for c in clients:
        change.emit(EventType.CLIENT_CREATED, client=c.id)


async def create(
    ctx: Context, user: models.User, partner_id: UUID, data: models.ClientCreate
) -> models.Client:
    await require_partner_member(user.sub, partner_id)
    async with partner_change(ctx, partner_id) as change:
        client = _new_client(partner_id, data, change.now)
        await _insert(change, [client])
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
        async with partner_change(ctx, partner_id, now) as change:
            await _insert(change, created)
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
    async with partner_change(ctx, partner_id) as change:
        await _row(partner_id, client_id)
        if changes:
            changes[Client.updated_at] = change.now
            await Client.update(changes).where(Client.id == client_id)
        row = await _row(partner_id, client_id)
    return await _load_view(ctx, row)


async def disconnect(
    ctx: Context, user: models.User, partner_id: UUID, client_id: UUID
) -> models.Client:
    """Revoke the client's link; the client becomes `inactive`. Idempotent."""
    await require_partner_member(user.sub, partner_id)
    async with partner_change(ctx, partner_id) as change:
        await lock(Client, client_id)
        row = await _row(partner_id, client_id)
        if row["status"] == "active":
            links = (
                await Link.update({Link.status: "revoked", Link.revoked_at: change.now})
                .where((Link.client == client_id) & (Link.status == "active"))
                .returning(Link.id)
            )
            await unlinked(change, client_id, links[0]["id"] if links else None, by="partner")
            row = await _row(partner_id, client_id)
    return await _load_view(ctx, row)


async def unlinked(
    change: PartnerChange, client_id: UUID, link_id: UUID | None, *, by: str
) -> None:
    """The client's link was revoked (`by` the partner or the business): it goes back to
    inactive, and the partner hears of it."""
    await back_to_inactive(change.now, clients=[client_id])
    change.emit(EventType.CLIENT_DEACTIVATED, client=client_id, link=link_id, data={"by": by})


async def back_to_inactive(
    now: datetime, *, clients: Sequence[UUID] = (), invitations: Sequence[UUID] = ()
) -> None:
    """The rule "the client goes back to inactive", in one place: `clients` whose link
    ended, or the clients whose latest invitation is one of `invitations` (which ended)
    while they were still invited by it. They keep no business."""
    changes: dict[Column | str, Any] = {
        Client.status: "inactive",
        Client.business: None,
        Client.connected_at: None,
        Client.updated_at: now,
    }
    if clients:
        await Client.update(changes).where(Client.id.is_in(list(clients)))
    if invitations:
        await Client.update(changes).where(
            Client.latest_invitation.is_in(list(invitations)) & (Client.status == "invited")
        )
