"""A partner's client list: create, import, list, read, change, disconnect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import msgspec
from piccolo.columns import Column

from api.errors import AppError, invalid
from api.field_messages import from_msgspec
from api.services import idempotency, views
from api.services.access import Member, partner_row
from api.services.changes import PartnerChange, partner_change
from api.services.context import Context, utcnow
from db import search, sql, statements
from db.tables import Client, Event, Invitation, Link, MailOutbox, QRGrant
from mobile_contract import ErrorCode, EventType, models
from mobile_contract.models import mail_domain


async def _load_view(ctx: Context, client_row: dict[str, Any]) -> models.Client:
    invitation_row = None
    if client_row["latest_invitation"] is not None:
        invitation_row = (
            await Invitation.select()
            .where(Invitation.id == client_row["latest_invitation"])
            .first()
        )
    return views.client(ctx, client_row, invitation_row, utcnow())


async def _row(partner_id: UUID, client_id: UUID, *, locked: bool = False) -> dict[str, Any]:
    return await partner_row(Client, partner_id, client_id, "client", locked=locked)


def _unreachable(email: str | None) -> AppError | None:
    """The 400 of an address no email can reach (`mail_domain`), as of one that is no
    address."""
    if email is not None and mail_domain(email) is None:
        return invalid("email", "not a valid email address")
    return None


def _new_client(
    partner_id: UUID, data: models.ClientCreate, now: datetime, source: models.ClientSource
) -> models.Client:
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
        source=source,
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
            c.source,
            *search.client_keys(c.name, c.email, c.vat_number, c.external_ref).values(),
        )
        for c in clients
    ]
    await sql.insert(statements.CLIENT_INSERT, rows)
    for c in clients:
        change.emit(EventType.CLIENT_CREATED, client=c.id)


async def create(ctx: Context, member: Member, data: models.ClientCreate) -> models.Client:
    if error := _unreachable(data.email):
        raise error
    async with partner_change(ctx, member.partner_id) as change:
        client = _new_client(member.partner_id, data, change.now, "manual")
        await _insert(change, [client])
    return client


def _row_error(exc: msgspec.ValidationError) -> models.ItemError:
    """A row's validation error; `field` names the row's field (None: the row as a whole)."""
    error = from_msgspec(exc)
    whole_row = error.field == "body"
    return models.ItemError(
        code=ErrorCode.VALIDATION_FAILED.value,
        detail=f"the row {error.message}" if whole_row else f"{error.field}: {error.message}",
        field=None if whole_row else error.field,
    )


async def import_clients(
    ctx: Context, member: Member, data: models.ClientImport
) -> models.ImportResponse:
    """Create every valid row; a bad row gets its own error and does not fail the rest."""
    now = utcnow()
    results: list[models.ImportResult] = []
    created: list[models.Client] = []
    for index, raw in enumerate(data.clients):
        try:
            row = msgspec.convert(raw, models.ClientCreate)
        except msgspec.ValidationError as exc:
            results.append(models.ImportResult(index=index, error=_row_error(exc)))
            continue
        if error := _unreachable(row.email):
            item = models.ItemError(code=error.code.value, detail=error.detail, field="email")
            results.append(models.ImportResult(index=index, error=item))
            continue
        client = _new_client(member.partner_id, row, now, "import")
        created.append(client)
        results.append(models.ImportResult(index=index, client=client))
    if created:
        async with partner_change(ctx, member.partner_id, now) as change:
            await _insert(change, created)
    return models.ImportResponse(results=results)


async def get(ctx: Context, member: Member, client_id: UUID) -> models.Client:
    return await _load_view(ctx, await _row(member.partner_id, client_id))


async def patch(
    ctx: Context, member: Member, client_id: UUID, data: models.ClientPatch
) -> models.Client:
    changes: dict[Any, Any] = {
        getattr(Client, name): value.strip() if name == "name" else value
        for name in data.__struct_fields__
        if (value := getattr(data, name)) is not msgspec.UNSET
    }
    if isinstance(data.email, str) and (error := _unreachable(data.email)):
        raise error
    async with partner_change(ctx, member.partner_id) as change:
        row = await _row(member.partner_id, client_id, locked=True)
        changes = {c: value for c, value in changes.items() if row[c._meta.name] != value}
        if not changes:
            change.discard()  # every field is as given already: nothing to write or tell
        fields = [column._meta.name for column in changes]
        merged = row | {column._meta.name: value for column, value in changes.items()}
        keys = search.client_keys(
            merged["name"], merged["email"], merged["vat_number"], merged["external_ref"]
        )
        changes |= {getattr(Client, name): value for name, value in keys.items()}
        changes[Client.updated_at] = change.now
        await Client.update(changes).where(Client.id == client_id)
        if Client.language in changes:  # its emails still to come, and its page, speak it
            await Invitation.update({Invitation.language: changes[Client.language]}).where(
                (Invitation.client == client_id) & (Invitation.status == "pending")
            )
        change.emit(EventType.CLIENT_UPDATED, client=client_id, data={"fields": fields})
        row = await _row(member.partner_id, client_id)
    return await _load_view(ctx, row)


async def disconnect(ctx: Context, member: Member, client_id: UUID) -> models.Client:
    """Revoke the client's link; the client becomes `inactive`. Idempotent."""
    async with partner_change(ctx, member.partner_id) as change:
        row = await _row(member.partner_id, client_id, locked=True)
        if row["status"] == "active":
            links = (
                await Link.update({Link.status: "revoked", Link.revoked_at: change.now})
                .where((Link.client == client_id) & (Link.status == "active"))
                .returning(Link.id)
            )
            await unlinked(change, client_id, links[0]["id"] if links else None, by="partner")
            row = await _row(member.partner_id, client_id)
    return await _load_view(ctx, row)


async def unlinked(
    change: PartnerChange, client_id: UUID, link_id: UUID | None, *, by: str
) -> None:
    """The client's link was revoked (`by` the partner or the business): it goes back to
    inactive, and the partner hears of it."""
    await back_to_inactive(change.now, clients=[client_id])
    await Client.update({Client.disconnected_at: change.now, Client.disconnected_by: by}).where(
        Client.id == client_id
    )
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


async def invitations_of(ctx: Context, member: Member, client_id: UUID) -> models.InvitationList:
    """Every invitation of the client, newest first."""
    await _row(member.partner_id, client_id)
    rows = (
        await Invitation.select()
        .where((Invitation.client == client_id) & (Invitation.partner == member.partner_id))
        .order_by(Invitation.created_at, ascending=False)
        .order_by(Invitation.id, ascending=False)
    )
    now = utcnow()
    return models.InvitationList(items=[views.invitation(ctx, r, now) for r in rows])


async def delete(ctx: Context, member: Member, client_id: UUID) -> None:
    """Erase a client that is not active, with its personal data: its invitations (emails,
    messages) and their queued mail and on-screen grants go; links it once had forget it;
    its events keep their ids and types, not their data; answers kept for an
    Idempotency-Key that show it are forgotten. A `client.deleted` event says so."""
    async with partner_change(ctx, member.partner_id) as change:
        row = await _row(member.partner_id, client_id, locked=True)
        if views.client_status(row, change.now) == "active":
            raise AppError(
                ErrorCode.CLIENT_ALREADY_ACTIVE, "The client is linked; disconnect it first."
            )
        invitation_ids = [
            r["id"]
            for r in await Invitation.select(Invitation.id).where(Invitation.client == client_id)
        ]
        if invitation_ids:
            await MailOutbox.delete().where(MailOutbox.invitation.is_in(invitation_ids))
            await QRGrant.delete().where(QRGrant.invitation.is_in(invitation_ids))
            await Invitation.delete().where(Invitation.client == client_id)
        await Link.update({Link.client: None}).where(Link.client == client_id)
        await Event.update({Event.data: "{}"}).where(
            (Event.partner == member.partner_id) & (Event.client == client_id)
        )
        await Client.delete().where(Client.id == client_id)
        await idempotency.forget_answers_showing(member.partner_id, client_id)
        change.emit(EventType.CLIENT_DELETED, client=client_id)
