"""A business's side of its links: see which partners have access, and withdraw it."""

from __future__ import annotations

from uuid import UUID

from api.errors import AppError, not_found
from api.services import events, views
from api.services.access import business_role
from api.services.clients import deactivate
from api.services.context import Context, utcnow
from api.services.events import NewEvent
from db.tables import Client, Link, Partner
from db.transactions import lock, one, write_transaction
from mobile_contract import ErrorCode, models


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
