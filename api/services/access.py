"""Who may act where. Outsiders get `not_found`: another partner's objects never show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from piccolo.table import Table

from api.errors import AppError, not_found
from db.tables import BusinessMember, PartnerMember
from db.transactions import lock
from mobile_contract import ErrorCode, models


async def found(query: Any, what: str) -> dict[str, Any]:
    """The row a `select(...)` finds, or 404 `No such {what}`: an id that is not there and
    one of another partner's or business's answer the same."""
    row: dict[str, Any] | None = await query.first()
    if row is None:
        raise not_found(f"No such {what}")
    return row


async def partner_row(
    table: type[Table], partner_id: UUID, row_id: UUID, what: str, *, locked: bool = False
) -> dict[str, Any]:
    """The row `row_id` of `table` (a table with a `partner` column) if it is the
    partner's, else 404 `No such {what}`. `locked`: the row is locked first, so that what
    is read holds still until the transaction ends."""
    if locked:
        await lock(table, row_id)
    partner = table._meta.get_column_by_name("partner")
    return await found(
        table.select().where((table._meta.primary_key == row_id) & (partner == partner_id)), what
    )


@dataclass(frozen=True, slots=True)
class Member:
    """A signed-in user found to be a member of a partner: whom the partner's services act
    for. Only `member_of` makes one, so that a service given one need not ask again."""

    user: models.User
    partner_id: UUID


async def member_of(user: models.User, partner_id: UUID) -> Member:
    """The user as a member of the partner; anyone else gets 404 `No such partner`."""
    member = await PartnerMember.exists().where(
        (PartnerMember.partner == partner_id) & (PartnerMember.user_sub == user.sub)
    )
    if not member:
        raise not_found("No such partner")
    return Member(user, partner_id)


async def partner_revision(user_sub: str, partner_id: UUID) -> int:
    """`member_of`'s check, also reading the partner's revision (see
    api.services.revisions) in the same statement."""
    row = await found(
        PartnerMember.select(PartnerMember.partner.revision).where(
            (PartnerMember.partner == partner_id) & (PartnerMember.user_sub == user_sub)
        ),
        "partner",
    )
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
