"""Who may act where. Outsiders get `not_found`: another partner's objects never show."""

from __future__ import annotations

from uuid import UUID

from api.errors import AppError, not_found
from db.tables import BusinessMember, PartnerMember
from mobile_contract import ErrorCode


async def require_partner_member(user_sub: str, partner_id: UUID) -> None:
    member = await PartnerMember.exists().where(
        (PartnerMember.partner == partner_id) & (PartnerMember.user_sub == user_sub)
    )
    if not member:
        raise not_found("No such partner")


async def partner_revision(user_sub: str, partner_id: UUID) -> int:
    """`require_partner_member`, also reading the partner's revision (see
    api.services.revisions) in the same statement."""
    row = (
        await PartnerMember.select(PartnerMember.partner.revision)
        .where((PartnerMember.partner == partner_id) & (PartnerMember.user_sub == user_sub))
        .first()
    )
    if row is None:
        raise not_found("No such partner")
    return int(row["partner.revision"])


async def business_role(user_sub: str, business_id: UUID) -> str | None:
    row = (
        await BusinessMember.select(BusinessMember.role)
        .where((BusinessMember.business == business_id) & (BusinessMember.user_sub == user_sub))
        .first()
    )
    return row["role"] if row else None


async def require_business_admin(user_sub: str, business_id: UUID, *, hide: bool) -> None:
    """403 not_business_admin for a member who is not admin; non-members get 404 if `hide`."""
    role = await business_role(user_sub, business_id)
    if role == "admin":
        return
    if role is None and hide:
        raise not_found("No such business")
    raise AppError(ErrorCode.NOT_BUSINESS_ADMIN, "You must administer this business.")
