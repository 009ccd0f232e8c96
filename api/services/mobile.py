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
from api.services import events, grants, views
from api.services.access import business_role
from api.services.context import Context, utcnow
from api.services.events import NewEvent
from api.services.invitations import state_error
from api.services.spaces import insert_business
from db import sql
from db.tables import (
    Business,
    BusinessMember,
    Client,
    Invitation,
    Link,
    Partner,
    RegistrationLink,
)
from db.transactions import IS_POSTGRES, lock, one, write_transaction
from mobile_contract import ErrorCode, models

# The statements of a confirm, in the order `_confirm_invitation` runs them (bench/direct.py
# runs the same ones straight on asyncpg, as the yardstick of this path).
LOCK_CLIENT = sql.Statement("SELECT id FROM client WHERE id = {} FOR UPDATE")  # PostgreSQL
INVITATION_FOR_UPDATE = sql.Statement(
    "SELECT * FROM invitation WHERE id = {}",
    postgres="SELECT * FROM invitation WHERE id = {} FOR UPDATE",
)
ACTIVE_LINK = sql.Statement(
    "SELECT * FROM link WHERE partner = {} AND business = {} AND status = 'active'"
)
INSERT_LINK = sql.Statement(
    "INSERT INTO link (id, partner, business, client, access_level, status, created_by,"
    " created_at, revoked_at) VALUES ({}, {}, {}, {}, {}, 'active', {}, {}, NULL)"
)
ACCEPT_INVITATION = sql.Statement(
    "UPDATE invitation SET status = 'accepted', accepted_at = {}, accepted_by = {}, link = {}"
    " WHERE id = {}"
)
ACTIVATE_CLIENT = sql.Statement(
    "UPDATE client SET status = 'active', business = {}, connected_at = {}, updated_at = {}"
    " WHERE id = {}"
)


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
    return models.PartnerRef(id=row["id"], name=row["name"])


async def preview(ctx: Context, user: models.User, data: models.GrantRequest) -> models.Preview:
    """Who asks for what access. The first preview marks the invitation opened."""
    now = utcnow()
    grant = await grants.resolve(ctx, user, data, now)
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
        async with write_transaction():
            opened = (
                await Invitation.update({Invitation.opened_at: now})
                .where((Invitation.id == invitation["id"]) & Invitation.opened_at.is_null())
                .returning(Invitation.id)
            )
            if opened:
                await events.record(
                    invitation["partner"],
                    [
                        NewEvent(
                            type="invitation.opened",
                            client=invitation["client"],
                            invitation=invitation["id"],
                        )
                    ],
                    now,
                )
        if opened:
            ctx.bus.publish(invitation["partner"])
    return models.Preview(
        kind="invitation",
        invitation_id=invitation["id"],
        partner=await _partner_ref(invitation["partner"]),
        client_name=client["name"] if client else None,
        message=invitation["message"],
        access_level=invitation["access_level"],
        expires_at=min(
            invitation["expires_at"], grant.grant_expires_at or invitation["expires_at"]
        ),
        businesses=await _business_choices(user.sub, invitation["partner"]),
    )


def _exactly_one_business(data: models.ConfirmRequest) -> None:
    if (data.business_id is None) == (data.new_business is None):
        raise invalid("business_id", "give exactly one of business_id or new_business")


async def _target_business(user: models.User, data: models.ConfirmRequest) -> UUID:
    """The business to link: one the caller administers, or a new one they will."""
    if data.new_business is not None:
        return (await insert_business(user.sub, data.new_business)).id
    assert data.business_id is not None
    if await business_role(user.sub, data.business_id) != "admin":
        raise AppError(
            ErrorCode.NOT_BUSINESS_ADMIN, "You must administer this business to link it."
        )
    return data.business_id


async def _active_link(partner_id: UUID, business_id: UUID) -> dict[str, Any] | None:
    return await sql.fetch_one(ACTIVE_LINK, partner_id, business_id)


async def confirm(
    ctx: Context, user: models.User, data: models.ConfirmRequest
) -> models.Confirmation:
    grants.require_one(data)
    _exactly_one_business(data)
    now = utcnow()
    # Resolved outside the transaction: a wrong user_code must stay counted.
    grant = await grants.resolve(ctx, user, data, now)
    try:
        async with write_transaction():
            if grant.registration_link is not None:
                result = await _confirm_registration_link(
                    user, data, grant.registration_link["id"], now
                )
            else:
                assert grant.invitation is not None
                result = await _confirm_invitation(user, data, grant, now)
    except Exception as exc:
        if _is_unique_violation(exc):
            # Another confirm linked this business to the partner first.
            raise AppError(
                ErrorCode.BUSINESS_ALREADY_LINKED, "This business is already linked to the partner."
            ) from None
        raise
    ctx.bus.publish(result.link.partner_id)
    return result


def _is_unique_violation(exc: BaseException) -> bool:
    import sqlite3

    if isinstance(exc, sqlite3.IntegrityError):
        return "UNIQUE" in str(exc)
    return type(exc).__name__ == "UniqueViolationError"


async def _confirm_invitation(
    user: models.User, data: models.ConfirmRequest, grant: grants.Grant, now: datetime
) -> models.Confirmation:
    assert grant.invitation is not None
    invitation_id, client_id = grant.invitation["id"], grant.invitation["client"]
    if IS_POSTGRES:
        await sql.execute(LOCK_CLIENT, client_id)
    grant.invitation = invitation = await sql.fetch_one(INVITATION_FOR_UPDATE, invitation_id)
    assert invitation is not None
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
    partner_id = invitation["partner"]
    if data.business_id is not None and await _active_link(partner_id, business_id):
        raise AppError(
            ErrorCode.BUSINESS_ALREADY_LINKED, "This business is already linked to the partner."
        )
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
        INSERT_LINK,
        link["id"],
        partner_id,
        business_id,
        client_id,
        link["access_level"],
        user.sub,
        now,
    )
    await sql.execute(ACCEPT_INVITATION, now, user.sub, link["id"], invitation_id)
    await sql.execute(ACTIVATE_CLIENT, business_id, now, now, client_id)
    event_data = {"business_id": str(business_id)}
    await events.record(
        partner_id,
        [
            NewEvent(
                type=kind,
                client=client_id,
                invitation=invitation_id,
                link=link["id"],
                data=event_data,
            )
            for kind in ("invitation.accepted", "client.activated")
        ],
        now,
    )
    return models.Confirmation(link=views.link(link), client_id=client_id)


async def _confirm_registration_link(
    user: models.User, data: models.ConfirmRequest, link_id: UUID, now: datetime
) -> models.Confirmation:
    await lock(RegistrationLink, link_id)
    reg = await one(RegistrationLink.select().where(RegistrationLink.id == link_id))
    partner_id = reg["partner"]
    if data.business_id is not None:
        if await business_role(user.sub, data.business_id) != "admin":
            raise AppError(
                ErrorCode.NOT_BUSINESS_ADMIN, "You must administer this business to link it."
            )
        existing = await _active_link(partner_id, data.business_id)
        if existing is not None:
            return models.Confirmation(link=views.link(existing), client_id=existing["client"])
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
    )
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
    await RegistrationLink.update({RegistrationLink.uses: RegistrationLink.uses + 1}).where(
        RegistrationLink.id == link_id
    )
    data_ = {"business_id": str(business_id), "registration_link_id": str(link_id)}
    await events.record(
        partner_id,
        [
            NewEvent(type="client.created", client=client.id, data=data_),
            NewEvent(type="client.activated", client=client.id, link=new_link.id, data=data_),
        ],
        now,
    )
    return models.Confirmation(link=views.link(new_link.to_dict()), client_id=client.id)


async def decline(
    ctx: Context, user: models.User, data: models.GrantRequest
) -> models.Invitation | models.RegistrationLinkDeclined:
    """Decline an invitation (the client goes back to `inactive`). Declining a
    registration link stores nothing: it stays open for other businesses."""
    now = utcnow()
    grant = await grants.resolve(ctx, user, data, now)
    if grant.registration_link is not None:
        grants.check_usable(grant, now)
        return models.RegistrationLinkDeclined(registration_link_id=grant.registration_link["id"])
    assert grant.invitation is not None
    async with write_transaction():
        invitation_id = grant.invitation["id"]
        await lock(Client, grant.invitation["client"])
        await lock(Invitation, invitation_id)
        grant.invitation = await one(Invitation.select().where(Invitation.id == invitation_id))
        invitation = grants.usable_invitation(grant, now)
        await Invitation.update({Invitation.status: "declined", Invitation.declined_at: now}).where(
            Invitation.id == invitation_id
        )
        await Client.update({Client.status: "inactive", Client.updated_at: now}).where(
            (Client.id == invitation["client"])
            & (Client.latest_invitation == invitation_id)
            & (Client.status == "invited")
        )
        await events.record(
            invitation["partner"],
            [
                NewEvent(
                    type="invitation.declined",
                    client=invitation["client"],
                    invitation=invitation_id,
                )
            ],
            now,
        )
        row = await one(Invitation.select().where(Invitation.id == invitation_id))
    ctx.bus.publish(invitation["partner"])
    return views.invitation(ctx, row, now)
