"""A business's side of its links: see which partners have access, and withdraw it."""

from __future__ import annotations

from uuid import UUID

from api.errors import not_found
from api.services import views
from api.services.access import business_role, found, require_business_admin
from api.services.changes import partner_change
from api.services.clients import unlinked
from api.services.context import Context
from db.tables import Client, Link, Partner
from db.transactions import lock, one
from mobile_contract import models


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
    await require_business_admin(user.sub, business_id, hide=True)
    link = await found(
        Link.select(Link.partner, Link.client).where(
            (Link.id == link_id) & (Link.business == business_id)
        ),
        "link",
    )
    async with partner_change(ctx, link["partner"]) as change:
        if link["client"] is not None:
            await lock(Client, link["client"])
        await lock(Link, link_id)
        row = await one(Link.select().where(Link.id == link_id))
        if row["status"] == "active":
            await Link.update({Link.status: "revoked", Link.revoked_at: change.now}).where(
                Link.id == link_id
            )
            if row["client"] is not None:
                await unlinked(change, row["client"], link_id, by="business")
            row = await one(Link.select().where(Link.id == link_id))
    partner = await one(Partner.select(Partner.name).where(Partner.id == row["partner"]))
    return views.link(row, partner["name"])
