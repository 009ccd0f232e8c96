"""What the public landing page of a link shows. Reading it never changes anything:
mail scanners follow links, so only the signed-in mobile calls act."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from api.errors import AppError
from api.services import views
from api.services.context import Context, utcnow
from api.services.grants import check_usable, resolve_token
from db.tables import Client, Partner
from mobile_contract import ErrorCode

# The error pages there are, by the error a token gets.
ERROR_PAGES: dict[ErrorCode, str] = {
    ErrorCode.TOKEN_INVALID: "invalid",
    ErrorCode.TOKEN_EXPIRED: "expired",
    ErrorCode.INVITATION_EXPIRED: "expired",
    ErrorCode.INVITATION_REVOKED: "revoked",
    ErrorCode.INVITATION_SUPERSEDED: "superseded",
    ErrorCode.INVITATION_DECLINED: "declined",
    ErrorCode.INVITATION_ALREADY_ACCEPTED: "accepted",
    ErrorCode.REGISTRATION_LINK_REVOKED: "revoked",
    ErrorCode.REGISTRATION_LINK_EXPIRED: "expired",
    ErrorCode.REGISTRATION_LINK_EXHAUSTED: "exhausted",
}


class Landing(msgspec.Struct, kw_only=True):
    kind: Literal["invitation", "registration_link"]
    partner_name: str
    client_name: str | None
    message: str | None
    access_level: str
    expires_at: datetime | None
    language: str | None  # the client's, for invitations


async def landing(ctx: Context, token: str) -> Landing:
    """The page's content, or the AppError whose page to show instead."""
    grant = await resolve_token(ctx, token, utcnow())
    expires_at = check_usable(grant, utcnow())
    if grant.registration_link is not None:
        link = grant.registration_link
        partner = await Partner.select(Partner.name).where(Partner.id == link["partner"]).first()
        return Landing(
            kind="registration_link",
            partner_name=partner["name"] if partner else "",
            client_name=None,
            message=None,
            access_level=link["access_level"],
            expires_at=expires_at,
            language=None,
        )
    invitation = grant.invitation
    assert invitation is not None
    partner = await Partner.select(Partner.name).where(Partner.id == invitation["partner"]).first()
    client = await Client.select(Client.name).where(Client.id == invitation["client"]).first()
    return Landing(
        kind="invitation",
        partner_name=partner["name"] if partner else "",
        client_name=client["name"] if client else None,
        message=invitation["message"],
        access_level=invitation["access_level"],
        expires_at=expires_at,
        language=invitation["language"],
    )


async def status(ctx: Context, token: str) -> str:
    """The state of the token's invitation (`pending`, `accepted`, ...) for the page's poll;
    `active`, `revoked`, `expired` or `exhausted` for a registration link."""
    grant = await resolve_token(ctx, token, utcnow())
    now = utcnow()
    if grant.invitation is not None:
        status = views.invitation_status(grant.invitation, now)
        qr_ended = grant.grant_expires_at is not None and grant.grant_expires_at <= now
        return "expired" if status == "pending" and qr_ended else status  # as its page says
    try:
        check_usable(grant, now)
    except AppError as exc:
        return ERROR_PAGES.get(exc.code, "invalid")
    return "active"
