"""The app's side: preview, confirm and decline an invitation or registration link.

What a token or user code grants is resolved by `grants`. Nothing is granted before
`confirm`, which is one transaction: the invitation becomes accepted, the client
active, the link exists and the events are written, or none of it happens.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from api.errors import AppError, invalid
from api.services import access_notices, grants, views
from api.services.access import require_business_admin
from api.services.changes import PartnerChange, partner_change
from api.services.clients import back_to_inactive
from api.services.context import Context, utcnow
from api.services.invitations import explained, state_error
from api.services.spaces import insert_business
from db import search, sql, statements
from db.errors import is_unique_violation
from db.tables import Business, BusinessMember, Client, Invitation, Link, Partner, RegistrationLink
from db.transactions import lock, one
from mobile_contract import ErrorCode, EventType, models


async def _business_choices(user_sub: str, partner_id: UUID) -> list[models.BusinessChoice]:
    rows = (
        await BusinessMember.select(BusinessMember.business.id, BusinessMember.business.name)
        .where((BusinessMember.user_sub == user_sub) & (BusinessMember.role == "admin"))
        .order_by(BusinessMember.business.name)
    )
    if not rows:
        return []
    linked = {
        r["business"]
        for r in await Link.select(Link.business).where(
            (Link.partner == partner_id)
            & (Link.status == "active")
            & Link.business.is_in([r["business.id"] for r in rows])
        )
    }
    return [
        models.BusinessChoice(
            id=r["business.id"], name=r["business.name"], already_linked=r["business.id"] in linked
        )
        for r in rows
    ]


async def _partner_ref(partner_id: UUID) -> models.PartnerRef:
    row = await one(Partner.select(Partner.id, Partner.name).where(Partner.id == partner_id))
    return views.from_row(models.PartnerRef, row)


async def preview(
    ctx: Context, user: models.User, data: models.GrantRequest, address: str | None = None
) -> models.Preview:
    """Who asks for what access. The first preview marks the invitation opened.
    `address`: the caller's, for the typed-code budgets."""
    now = utcnow()
    grant = await grants.resolve(ctx, user, data, now, address)
    try:
        return await _preview(ctx, user, grant, now)
    except AppError as error:
        raise await explained(error, grant.invitation, user.sub) from None


async def _preview(
    ctx: Context, user: models.User, grant: grants.Grant, now: datetime
) -> models.Preview:
    if grant.registration_link is not None:
        link = grant.registration_link
        grants.usable_registration_link(link, now)
        return models.Preview(
            kind="registration_link",
            registration_link_id=link["id"],
            partner=await _partner_ref(link["partner"]),
            access_level=link["access_level"],
            expires_at=link["expires_at"],
            businesses=await _business_choices(user.sub, link["partner"]),
        )
    invitation = grants.usable_invitation(grant, now)
    client = await Client.select(Client.name).where(Client.id == invitation["client"]).first()
    if invitation["opened_at"] is None:
        async with partner_change(ctx, invitation["partner"], now) as change:
            opened = (
                await Invitation.update({Invitation.opened_at: now})
                .where((Invitation.id == invitation["id"]) & Invitation.opened_at.is_null())
                .returning(Invitation.id)
            )
            if not opened:
                change.discard()  # another preview was first
            change.emit(
                EventType.INVITATION_OPENED,
                client=invitation["client"],
                invitation=invitation["id"],
            )
    return models.Preview(
        kind="invitation",
        invitation_id=invitation["id"],
        partner=await _partner_ref(invitation["partner"]),
        client_name=client["name"] if client else None,
        invited_email=mask_email(invitation["email"]),
        message=invitation["message"],
        access_level=invitation["access_level"],
        expires_at=min(
            invitation["expires_at"], grant.grant_expires_at or invitation["expires_at"]
        ),
        businesses=await _business_choices(user.sub, invitation["partner"]),
    )


def mask_email(email: str | None) -> str | None:
    """`jan@bakery.example` -> `j***@bakery.example`: enough for the user to recognise
    the address, not enough to learn it."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.rpartition("@")
    return f"{local[:1]}***@{domain}"


def _exactly_one_business(data: models.ConfirmRequest) -> None:
    if (data.business_id is None) == (data.new_business is None):
        raise invalid("business_id", "give exactly one of business_id or new_business")


async def _target_business(user: models.User, data: models.ConfirmRequest) -> UUID:
    """The business to link: one the caller administers, or a new one they will."""
    if data.new_business is not None:
        return (await insert_business(user.sub, data.new_business)).id
    assert data.business_id is not None
    await require_business_admin(user.sub, data.business_id, hide=False)
    return data.business_id


async def _active_link(partner_id: UUID, business_id: UUID) -> dict[str, Any] | None:
    return await sql.fetch_one(statements.ACTIVE_LINK, partner_id, business_id)


def _already_linked() -> AppError:
    return AppError(
        ErrorCode.BUSINESS_ALREADY_LINKED, "This business is already linked to the partner."
    )


async def confirm(
    ctx: Context, user: models.User, data: models.ConfirmRequest, address: str | None = None
) -> models.Confirmation:
    grants.require_one(data)
    _exactly_one_business(data)
    now = utcnow()
    # Resolved outside the transaction: a wrong user_code must stay counted.
    grant = await grants.resolve(ctx, user, data, now, address)
    target = grant.registration_link or grant.invitation
    assert target is not None
    try:
        async with partner_change(ctx, target["partner"]) as change:
            if grant.registration_link is not None:
                confirmation = await _confirm_registration_link(
                    ctx, change, user, data, target["id"]
                )
            else:
                confirmation = await _confirm_invitation(ctx, change, user, data, grant)
    except AppError as error:
        raise await explained(error, grant.invitation, user.sub) from None
    except Exception as exc:
        if is_unique_violation(exc):  # another confirm linked this business first
            raise _already_linked() from None
        raise
    confirmation.link.partner_name = change.partner_name
    return confirmation


async def _confirm_invitation(
    ctx: Context,
    change: PartnerChange,
    user: models.User,
    data: models.ConfirmRequest,
    grant: grants.Grant,
) -> models.Confirmation:
    assert grant.invitation is not None
    invitation_id, client_id = grant.invitation["id"], grant.invitation["client"]
    invitation = await grants.locked_invitation(grant)
    now, partner_id = change.now, change.partner_id
    if invitation["status"] == "accepted":
        link = await Link.select().where(Link.id == invitation["link"]).first()
        same_target = data.new_business is not None or (
            link is not None and link["business"] == data.business_id
        )
        if invitation["accepted_by"] == user.sub and link is not None and same_target:
            return models.Confirmation(link=views.link(link), client_id=client_id)
        raise state_error("accepted")
    grants.usable_invitation(grant, now)
    business_id = await _target_business(user, data)
    if data.business_id is not None and await _active_link(partner_id, business_id):
        raise _already_linked()
    link = {
        "id": uuid4(),
        "partner": partner_id,
        "business": business_id,
        "access_level": invitation["access_level"],
        "status": "active",
        "created_at": now,
        "revoked_at": None,
    }
    await sql.execute(
        statements.INSERT_LINK,
        link["id"],
        partner_id,
        business_id,
        client_id,
        link["access_level"],
        user.sub,
        now,
    )
    await sql.execute(statements.ACCEPT_INVITATION, now, user.sub, link["id"], invitation_id)
    await sql.execute(statements.ACTIVATE_CLIENT, business_id, now, now, client_id)
    await access_notices.queue(
        ctx,
        change,
        link_id=link["id"],
        business_id=business_id,
        access_level=link["access_level"],
        granted_by=user,
    )
    event_data = {"business_id": str(business_id)}
    for kind in (EventType.INVITATION_ACCEPTED, EventType.CLIENT_ACTIVATED):
        change.emit(
            kind, client=client_id, invitation=invitation_id, link=link["id"], data=event_data
        )
    return models.Confirmation(link=views.link(link), client_id=client_id)


async def _confirm_registration_link(
    ctx: Context,
    change: PartnerChange,
    user: models.User,
    data: models.ConfirmRequest,
    link_id: UUID,
) -> models.Confirmation:
    await lock(RegistrationLink, link_id)
    now, partner_id = change.now, change.partner_id
    reg = await one(RegistrationLink.select().where(RegistrationLink.id == link_id))
    # A business already linked gets its link back, whatever became of the registration
    # link since (used up by this very confirm, whose answer was lost): nothing is granted.
    if data.new_business is not None:
        # Repeated by the user who confirmed it, for a business of the same name (an app
        # retrying after a lost answer): the same link back, no second business. Another
        # name is another business.
        made = await (
            Link.select()
            .where(
                (Link.client.registration_link == link_id)
                & (Link.created_by == user.sub)
                & (Link.status == "active")
                & (Link.business.name == data.new_business.name)
            )
            .order_by(Link.created_at, ascending=False)
            .first()
        )
        if made is not None:
            return models.Confirmation(link=views.link(made), client_id=made["client"])
    if data.business_id is not None:
        await require_business_admin(user.sub, data.business_id, hide=False)
        existing = await _active_link(partner_id, data.business_id)
        if existing is not None:
            return models.Confirmation(link=views.link(existing), client_id=existing["client"])
    # Anything else needs the link to work: a revoked, expired or used-up one says so.
    grants.usable_registration_link(reg, now)
    business_id = await _target_business(user, data)
    business = await one(
        Business.select(Business.name, Business.vat_number).where(Business.id == business_id)
    )
    client = Client(
        partner=partner_id,
        name=business["name"],
        email=user.email,
        language="en",
        vat_number=business["vat_number"],
        status="active",
        business=business_id,
        connected_at=now,
        created_at=now,
        updated_at=now,
        source="registration_link",
        registration_link=link_id,
    )
    for column, value in search.client_keys(
        business["name"], user.email, business["vat_number"], None
    ).items():
        setattr(client, column, value)
    await client.save()
    new_link = Link(
        partner=partner_id,
        business=business_id,
        client=client.id,
        access_level=reg["access_level"],
        status="active",
        created_by=user.sub,
        created_at=now,
    )
    await new_link.save()
    await access_notices.queue(
        ctx,
        change,
        link_id=new_link.id,
        business_id=business_id,
        access_level=reg["access_level"],
        granted_by=user,
    )
    await RegistrationLink.update({RegistrationLink.uses: RegistrationLink.uses + 1}).where(
        RegistrationLink.id == link_id
    )
    event_data = {"business_id": str(business_id), "registration_link_id": str(link_id)}
    change.emit(EventType.CLIENT_CREATED, client=client.id, data=event_data)
    change.emit(EventType.CLIENT_ACTIVATED, client=client.id, link=new_link.id, data=event_data)
    return models.Confirmation(link=views.link(new_link.to_dict()), client_id=client.id)


async def decline(
    ctx: Context, user: models.User, data: models.GrantRequest, address: str | None = None
) -> models.Invitation | models.RegistrationLinkDeclined:
    """Decline an invitation (the client goes back to `inactive`). Declining a
    registration link stores nothing: it stays open for other businesses."""
    now = utcnow()
    grant = await grants.resolve(ctx, user, data, now, address)
    if grant.registration_link is not None:
        grants.check_usable(grant, now)
        return models.RegistrationLinkDeclined(registration_link_id=grant.registration_link["id"])
    try:
        return await _decline_invitation(ctx, grant)
    except AppError as error:
        raise await explained(error, grant.invitation, user.sub) from None


async def _decline_invitation(ctx: Context, grant: grants.Grant) -> models.Invitation:
    assert grant.invitation is not None
    invitation_id = grant.invitation["id"]
    async with partner_change(ctx, grant.invitation["partner"]) as change:
        await grants.locked_invitation(grant)
        now = change.now
        invitation = grants.usable_invitation(grant, now)
        await Invitation.update({Invitation.status: "declined", Invitation.declined_at: now}).where(
            Invitation.id == invitation_id
        )
        await back_to_inactive(now, invitations=[invitation_id])
        change.emit(
            EventType.INVITATION_DECLINED, client=invitation["client"], invitation=invitation_id
        )
        row = await one(Invitation.select().where(Invitation.id == invitation_id))
    return views.invitation(ctx, row, now)
