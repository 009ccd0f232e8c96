"""Registration links: reusable, revocable partner links (and their posters).

Every business that confirms through one becomes an active client of the partner
(see `mobile.confirm`). A link's token is rebuilt from its stored `jti` and `kid`; a link
without an expiry gets a token valid for ten years, and the database decides the rest.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from api.errors import invalid
from api.services.access import Member, partner_row
from api.services.changes import partner_change
from api.services.context import Context, utcnow
from api.services.views import from_row
from api.tokens import new_token_id
from db.tables import Partner, RegistrationLink
from mobile_contract import EventType, models

OPEN_ENDED_TOKEN = timedelta(days=3650)


def view(ctx: Context, row: dict[str, Any]) -> models.RegistrationLink:
    token = ctx.keys.sign(row["token_id"], row["token_expires_at"], "reg", row["token_kid"])
    return from_row(models.RegistrationLink, row, token=token, **ctx.urls(token))


async def create(
    ctx: Context, member: Member, data: models.RegistrationLinkCreate
) -> models.RegistrationLink:
    now = utcnow()
    expires_at = data.expires_at
    if expires_at is not None:
        if expires_at.tzinfo is None:
            raise invalid("expires_at", "give a time zone, e.g. 2027-01-31T23:59:59Z")
        try:
            expires_at = expires_at.astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:59:59-01:00 is in the year 10000
            raise invalid("expires_at", "must be before the year 10000 in UTC") from None
        if expires_at <= now:
            raise invalid("expires_at", "must be in the future")
    token_expires = (expires_at or now + OPEN_ENDED_TOKEN).replace(microsecond=0)
    link = RegistrationLink(
        partner=member.partner_id,
        label=data.label.strip() if data.label else None,
        token_id=new_token_id(),
        token_kid=ctx.keys.kid,
        token_expires_at=token_expires,
        access_level=data.access_level,
        expires_at=expires_at,
        max_uses=data.max_uses,
        uses=0,
        created_by=member.user.sub,
        created_at=now,
    )
    async with partner_change(ctx, member.partner_id, now) as change:
        await link.save()
        change.emit(
            EventType.REGISTRATION_LINK_CREATED, data={"registration_link_id": str(link.id)}
        )
    return view(ctx, link.to_dict())


async def _row(partner_id: UUID, link_id: UUID, *, locked: bool = False) -> dict[str, Any]:
    return await partner_row(
        RegistrationLink, partner_id, link_id, "registration link", locked=locked
    )


async def list_links(ctx: Context, member: Member) -> models.RegistrationLinkList:
    rows = (
        await RegistrationLink.select()
        .where(RegistrationLink.partner == member.partner_id)
        .order_by(RegistrationLink.created_at, ascending=False)
    )
    return models.RegistrationLinkList(items=[view(ctx, r) for r in rows])


async def get(ctx: Context, member: Member, link_id: UUID) -> models.RegistrationLink:
    return view(ctx, await _row(member.partner_id, link_id))


async def revoke(ctx: Context, member: Member, link_id: UUID) -> models.RegistrationLink:
    """Stop the link from working (idempotent); businesses already linked stay linked."""
    async with partner_change(ctx, member.partner_id) as change:
        row = await _row(member.partner_id, link_id, locked=True)
        if row["revoked_at"] is None:
            await RegistrationLink.update({RegistrationLink.revoked_at: change.now}).where(
                RegistrationLink.id == link_id
            )
            change.emit(
                EventType.REGISTRATION_LINK_REVOKED, data={"registration_link_id": str(link_id)}
            )
            row = await _row(member.partner_id, link_id)
    return view(ctx, row)


class Poster(models.Response):
    partner_name: str
    label: str | None
    url: str
    expires_at: datetime | None


async def poster(ctx: Context, member: Member, link_id: UUID) -> Poster:
    row = await _row(member.partner_id, link_id)
    partner = await Partner.select(Partner.name).where(Partner.id == member.partner_id).first()
    link = view(ctx, row)
    return Poster(
        partner_name=partner["name"] if partner else "",
        label=link.label,
        url=link.url,
        expires_at=link.expires_at,
    )
