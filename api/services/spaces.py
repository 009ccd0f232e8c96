"""Partner and Business Spaces, and what the signed-in user belongs to."""

from __future__ import annotations

import logging
from typing import Any
from uuid import uuid4

import msgspec
from piccolo.columns import Column

from api.errors import concurrent_change
from api.services import reminders
from api.services.access import Member
from api.services.changes import partner_change
from api.services.context import Context, utcnow
from api.services.views import from_row
from db import sql, statements
from db.tables import BusinessMember, Partner, PartnerMember
from db.transactions import one, write_transaction
from mobile_contract import models

log = logging.getLogger("api.spaces")


async def me(user: models.User) -> models.Me:
    partners = (
        await PartnerMember.select(
            PartnerMember.partner.id, PartnerMember.partner.name, PartnerMember.role
        )
        .where(PartnerMember.user_sub == user.sub)
        .order_by(PartnerMember.created_at)
    )
    businesses = (
        await BusinessMember.select(
            BusinessMember.business.id, BusinessMember.business.name, BusinessMember.role
        )
        .where(BusinessMember.user_sub == user.sub)
        .order_by(BusinessMember.created_at)
    )
    return models.Me(
        user=user,
        partners=[
            models.Membership(id=r["partner.id"], name=r["partner.name"], role=r["role"])
            for r in partners
        ],
        businesses=[
            models.Membership(id=r["business.id"], name=r["business.name"], role=r["role"])
            for r in businesses
        ],
    )


def _partner(ctx: Context, row: dict[str, Any]) -> models.Partner:
    return from_row(
        models.Partner, row, reminder_days=reminders.schedule(ctx, row["reminder_days"])
    )


async def create_partner(
    ctx: Context, user: models.User, data: models.PartnerCreate
) -> models.Partner:
    partner = Partner(name=data.name.strip(), vat_number=data.vat_number, created_at=utcnow())
    async with write_transaction():
        await partner.save()
        await PartnerMember(partner=partner.id, user_sub=user.sub, role="admin").save()
    return _partner(ctx, partner.to_dict())


async def get_partner(ctx: Context, member: Member) -> models.Partner:
    return _partner(ctx, await one(Partner.select().where(Partner.id == member.partner_id)))


# A try is lost only to an invite committing while it moves the pending invitations.
RESCHEDULE_TRIES = 3


async def update_partner(
    ctx: Context, member: Member, data: models.PartnerUpdate
) -> models.Partner:
    """Change the partner's name, VAT number or reminder schedule (which its pending
    invitations follow from now on)."""
    changes: dict[Column | str, Any] = {}
    if data.name is not msgspec.UNSET:
        changes[Partner.name] = data.name.strip()
    if data.vat_number is not msgspec.UNSET:
        changes[Partner.vat_number] = data.vat_number
    if data.reminder_days is not msgspec.UNSET:
        changes[Partner.reminder_days] = reminders.checked(ctx, data.reminder_days)
    for _ in range(RESCHEDULE_TRIES):
        try:
            async with partner_change(ctx, member.partner_id):
                if data.reminder_days is not msgspec.UNSET:  # invitations before the partner row
                    await reminders.reschedule(member.partner_id, data.reminder_days)
                if changes:
                    await Partner.update(changes).where(Partner.id == member.partner_id)
                row = await one(Partner.select().where(Partner.id == member.partner_id))
            return _partner(ctx, row)
        except reminders.InvitedMeanwhile:
            continue  # rolled back; its clients are locked first next time
    log.warning("schedule change of partner %s: invites kept coming; 503", member.partner_id)
    raise concurrent_change()


async def insert_business(user_sub: str, data: models.BusinessCreate) -> models.Business:
    """Create a business with `user_sub` as its admin; call inside a transaction (a confirm
    with a new business does, so this is written as plain statements)."""
    business = models.Business(
        id=uuid4(),
        name=data.name.strip(),
        vat_number=data.vat_number,
        country=data.country,
        created_at=utcnow(),
    )
    await sql.execute(
        statements.INSERT_BUSINESS,
        business.id,
        business.name,
        business.vat_number,
        business.country,
        business.created_at,
    )
    await sql.execute(
        statements.INSERT_BUSINESS_ADMIN, uuid4(), business.id, user_sub, business.created_at
    )
    return business


async def create_business(user: models.User, data: models.BusinessCreate) -> models.Business:
    async with write_transaction():
        return await insert_business(user.sub, data)
