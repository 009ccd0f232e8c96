"""The app's side: preview, confirm and decline an invitation or registration link.

A grant is named by a `token` (emailed `inv`, on-screen `qr`, or `reg`) or by a typed
`user_code` (the on-screen QR's grant). Nothing is granted before `confirm`, which is
one transaction: the invitation becomes accepted, the client active, the link exists
and the events are written, or none of it happens.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from api.errors import AppError, invalid, not_found
from api.services import events, views
from api.services.access import business_role
from api.services.clients import deactivate
from api.services.context import Context, utcnow
from api.services.events import NewEvent
from api.services.invitations import state_error
from api.services.spaces import insert_business
from db.tables import (
    Business,
    BusinessMember,
    Client,
    Invitation,
    Link,
    Partner,
    QRGrant,
    RegistrationLink,
    UserCodeAttempt,
)
from db.transactions import lock, one, write_transaction
from mobile_contract import ErrorCode, models
from mobile_contract.links import normalize_user_code

CODE_ATTEMPTS = 5
CODE_WINDOW = timedelta(minutes=10)


class Grant(msgspec.Struct, kw_only=True):
    """What a token or user code points at, before its state is judged."""

    invitation: dict[str, Any] | None = None
    registration_link: dict[str, Any] | None = None
    grant_expires_at: datetime | None = None  # the token's own expiry (qr tokens)


def _exactly_one(data: models.GrantRequest) -> None:
    if (data.token is None) == (data.user_code is None):
        raise invalid("token", "give exactly one of token or user_code")


async def _check_code_budget(user_sub: str, now: datetime) -> None:
    recent = (
        await UserCodeAttempt.select(UserCodeAttempt.at)
        .where((UserCodeAttempt.user_sub == user_sub) & (UserCodeAttempt.at > now - CODE_WINDOW))
        .order_by(UserCodeAttempt.at)
    )
    if len(recent) >= CODE_ATTEMPTS:
        oldest_counted = recent[-CODE_ATTEMPTS]["at"]
        wait = (oldest_counted + CODE_WINDOW - now).total_seconds()
        raise AppError(
            ErrorCode.RATE_LIMITED,
            "Too many wrong codes; try again later.",
            retry_after=max(1, math.ceil(wait)),
        )


async def resolve(
    ctx: Context, user: models.User, data: models.GrantRequest, now: datetime
) -> Grant:
    _exactly_one(data)
    if data.user_code is not None:
        await _check_code_budget(user.sub, now)
        code = normalize_user_code(data.user_code)
        grant = None
        if code is not None:
            grant = (
                await QRGrant.select()
                .where((QRGrant.user_code == code) & (QRGrant.expires_at > now))
                .first()
            )
        if grant is None:
            await UserCodeAttempt(user_sub=user.sub, at=now).save()
            raise not_found("No invitation has this code; check it and try again.")
        invitation = await Invitation.select().where(Invitation.id == grant["invitation"]).first()
        return Grant(invitation=invitation, grant_expires_at=grant["expires_at"])
    assert data.token is not None
    return await resolve_token(ctx, data.token, now)


async def resolve_token(ctx: Context, token: str, now: datetime) -> Grant:
    """What a genuine token points at; token_invalid for anything else."""
    claims = ctx.keys.verify(token)
    if claims.typ == "reg":
        link = (
            await RegistrationLink.select().where(RegistrationLink.token_id == claims.jti).first()
        )
        if link is None:
            raise AppError(ErrorCode.TOKEN_INVALID, "This is not a valid invitation token.")
        return Grant(registration_link=link)
    if claims.typ == "qr":
        grant = await QRGrant.select().where(QRGrant.token_id == claims.jti).first()
        if grant is None:
            raise AppError(ErrorCode.TOKEN_INVALID, "This is not a valid invitation token.")
        invitation = await Invitation.select().where(Invitation.id == grant["invitation"]).first()
        expires = min(grant["expires_at"], datetime.fromtimestamp(claims.exp, now.tzinfo))
        return Grant(invitation=invitation, grant_expires_at=expires)
    invitation = await Invitation.select().where(Invitation.token_id == claims.jti).first()
    if invitation is None:
        raise AppError(ErrorCode.TOKEN_INVALID, "This is not a valid invitation token.")
    if claims.expired(now.timestamp()) and invitation["status"] == "pending":
        invitation["expires_at"] = min(invitation["expires_at"], now)
    return Grant(invitation=invitation)


def check_usable(grant: Grant, now: datetime) -> datetime | None:
    """Raise the error that says why `grant` cannot be used; else when it stops working."""
    if grant.registration_link is not None:
        _usable_registration_link(grant.registration_link, now)
        return grant.registration_link["expires_at"]
    invitation = _usable_invitation(grant, now)
    return min(invitation["expires_at"], grant.grant_expires_at or invitation["expires_at"])


def _usable_invitation(grant: Grant, now: datetime) -> dict[str, Any]:
    """The pending invitation of `grant`, or the error saying why it is not usable."""
    invitation = grant.invitation
    assert invitation is not None
    status = views.invitation_status(invitation, now)
    if status != "pending":
        raise state_error(status)
    if grant.grant_expires_at is not None and grant.grant_expires_at <= now:
        raise AppError(ErrorCode.TOKEN_EXPIRED, "This QR code has expired; ask for a new one.")
    return invitation


def _usable_registration_link(link: dict[str, Any], now: datetime) -> None:
    if link["revoked_at"] is not None:
        raise AppError(ErrorCode.REGISTRATION_LINK_REVOKED, "This registration link was withdrawn.")
    if link["expires_at"] is not None and link["expires_at"] <= now:
        raise AppError(ErrorCode.REGISTRATION_LINK_EXPIRED, "This registration link has expired.")
    if link["max_uses"] is not None and link["uses"] >= link["max_uses"]:
        raise AppError(
            ErrorCode.REGISTRATION_LINK_EXHAUSTED, "This registration link has been used up."
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
    grant = await resolve(ctx, user, data, now)
    if grant.registration_link is not None:
        link = grant.registration_link
        _usable_registration_link(link, now)
        return models.Preview(
            kind="registration_link",
            registration_link_id=link["id"],
            partner=await _partner_ref(link["partner"]),
            access_level=link["access_level"],
            expires_at=link["expires_at"],
            businesses=await _business_choices(user.sub, link["partner"]),
        )
    invitation = _usable_invitation(grant, now)
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
    return (
        await Link.select()
        .where(
            (Link.partner == partner_id)
            & (Link.business == business_id)
            & (Link.status == "active")
        )
        .first()
    )


async def confirm(
    ctx: Context, user: models.User, data: models.ConfirmRequest
) -> models.Confirmation:
    _exactly_one(data)
    _exactly_one_business(data)
    now = utcnow()
    # Resolved outside the transaction: a wrong user_code must stay counted.
    grant = await resolve(ctx, user, data, now)
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
    user: models.User, data: models.ConfirmRequest, grant: Grant, now: datetime
) -> models.Confirmation:
    assert grant.invitation is not None
    invitation_id = grant.invitation["id"]
    await lock(Client, grant.invitation["client"])
    await lock(Invitation, invitation_id)
    grant.invitation = await one(Invitation.select().where(Invitation.id == invitation_id))
    invitation = grant.invitation
    assert invitation is not None
    if invitation["status"] == "accepted":
        link = await Link.select().where(Link.id == invitation["link"]).first()
        same_target = data.new_business is not None or (
            link is not None and link["business"] == data.business_id
        )
        if invitation["accepted_by"] == user.sub and link is not None and same_target:
            return models.Confirmation(link=views.link(link), client_id=invitation["client"])
        raise state_error("accepted")
    _usable_invitation(grant, now)
    business_id = await _target_business(user, data)
    partner_id = invitation["partner"]
    if await _active_link(partner_id, business_id) is not None:
        raise AppError(
            ErrorCode.BUSINESS_ALREADY_LINKED, "This business is already linked to the partner."
        )
    new_link = Link(
        partner=partner_id,
        business=business_id,
        client=invitation["client"],
        access_level=invitation["access_level"],
        status="active",
        created_by=user.sub,
        created_at=now,
    )
    await new_link.save()
    await Invitation.update(
        {
            Invitation.status: "accepted",
            Invitation.accepted_at: now,
            Invitation.accepted_by: user.sub,
            Invitation.link: new_link.id,
        }
    ).where(Invitation.id == invitation_id)
    await Client.update(
        {
            Client.status: "active",
            Client.business: business_id,
            Client.connected_at: now,
            Client.updated_at: now,
        }
    ).where(Client.id == invitation["client"])
    await events.record(
        partner_id,
        [
            NewEvent(
                type="invitation.accepted",
                client=invitation["client"],
                invitation=invitation_id,
                link=new_link.id,
                data={"business_id": str(business_id)},
            ),
            NewEvent(
                type="client.activated",
                client=invitation["client"],
                invitation=invitation_id,
                link=new_link.id,
                data={"business_id": str(business_id)},
            ),
        ],
        now,
    )
    return models.Confirmation(link=views.link(new_link.to_dict()), client_id=invitation["client"])


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
    _usable_registration_link(reg, now)
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
    grant = await resolve(ctx, user, data, now)
    if grant.registration_link is not None:
        check_usable(grant, now)
        return models.RegistrationLinkDeclined(registration_link_id=grant.registration_link["id"])
    assert grant.invitation is not None
    async with write_transaction():
        invitation_id = grant.invitation["id"]
        await lock(Client, grant.invitation["client"])
        await lock(Invitation, invitation_id)
        grant.invitation = await one(Invitation.select().where(Invitation.id == invitation_id))
        invitation = _usable_invitation(grant, now)
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


async def business_links(user: models.User, business_id: UUID) -> models.LinkList:
    if await business_role(user.sub, business_id) is None:
        raise not_found("No such business")
    rows = (
        await Link.select(*Link.all_columns(), Link.partner.name)
        .where(Link.business == business_id)
        .order_by(Link.created_at)
    )
    return models.LinkList(items=[views.link(r, r["partner.name"]) for r in rows])


async def revoke_business_link(
    ctx: Context, user: models.User, business_id: UUID, link_id: UUID
) -> models.Link:
    """The business withdraws a partner's access; the partner's client becomes inactive."""
    role = await business_role(user.sub, business_id)
    if role is None:
        raise not_found("No such business")
    if role != "admin":
        raise AppError(ErrorCode.NOT_BUSINESS_ADMIN, "You must administer this business.")
    now = utcnow()
    async with write_transaction():
        link = await Link.select(Link.client).where(Link.id == link_id).first()
        if link is not None and link["client"] is not None:
            await lock(Client, link["client"])
        await lock(Link, link_id)
        row = (
            await Link.select().where((Link.id == link_id) & (Link.business == business_id)).first()
        )
        if row is None:
            raise not_found("No such link")
        if row["status"] == "active":
            await Link.update({Link.status: "revoked", Link.revoked_at: now}).where(
                Link.id == link_id
            )
            if row["client"] is not None:
                await deactivate(row["partner"], row["client"], now)
            await events.record(
                row["partner"],
                [
                    NewEvent(
                        type="client.deactivated",
                        client=row["client"],
                        link=link_id,
                        data={"by": "business"},
                    )
                ],
                now,
            )
            row = await one(Link.select().where(Link.id == link_id))
    ctx.bus.publish(row["partner"])
    partner = await Partner.select(Partner.name).where(Partner.id == row["partner"]).first()
    return views.link(row, partner["name"] if partner else None)
