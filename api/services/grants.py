"""Grants: what a token (emailed `inv`, on-screen `qr`, or `reg`) or a typed `user_code`
points at, and whether it can still be used.

Shared by the app's calls (`mobile`) and the public pages and images of a link; a
wrong user code counts against the user's budget (5 per 10 minutes), the client
address's and everyone's (settings). A code that exists costs nothing, even once dead
(expired or used: `410 user_code_expired`; used, to the user who accepted its invitation,
it answers as the token does, so an app's repeated confirm gets its link).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import msgspec

from api import addresses
from api.errors import AppError, invalid, not_found
from api.services import views
from api.services.context import Context
from api.services.invitations import held_invitation, state_error
from api.tokens import invalid_token
from db import sql, statements
from db.tables import Invitation, QRGrant, RegistrationLink
from db.transactions import write_transaction
from mobile_contract import ErrorCode, models
from mobile_contract.links import normalize_user_code

CODE_ATTEMPTS = 5
CODE_WINDOW = timedelta(minutes=10)
# A typed code dies with its QR token's expiry or once the invitation it grants has been
# answered, whichever way (the code, a token, the emailed link): it is shown on a
# partner's screen and may be read by others. Tokens keep telling how an invitation ended.
USED = frozenset({"accepted", "declined"})


class Grant(msgspec.Struct, kw_only=True):
    """What a token or user code points at, before its state is judged."""

    invitation: dict[str, Any] | None = None
    registration_link: dict[str, Any] | None = None
    grant_expires_at: datetime | None = None  # the token's own expiry (qr tokens)
    revision: int | None = None  # the partner's, read with the invitation
    by_code: bool = False  # typed as a user code, not given as a token


def _no_such_code() -> AppError:
    return not_found("No invitation has this code; check it and try again.")


def _gone(grant: Grant) -> AppError:
    """What the token or code of `grant` answers once its invitation is gone (its client
    was deleted): the answer it gets from then on."""
    return _no_such_code() if grant.by_code else invalid_token()


async def locked_invitation(grant: Grant) -> dict[str, Any]:
    """The invitation of `grant`, held (`invitations.held_invitation`) and kept in
    `grant.invitation`; `_gone(grant)` if it was deleted since it was resolved."""
    assert grant.invitation is not None
    invitation = await held_invitation(grant.invitation)
    if invitation is None:
        raise _gone(grant)
    grant.invitation = invitation
    return invitation


def require_one(data: models.GrantRequest) -> None:
    if (data.token is None) == (data.user_code is None):
        raise invalid("token", "give exactly one of token or user_code")


def code_budgets(ctx: Context, user_sub: str, address: str | None) -> list[tuple[str, int]]:
    """The budgets a typed code is checked against: (scope, attempts per window)."""
    settings = ctx.settings
    budgets = [(f"user:{user_sub}", CODE_ATTEMPTS), ("all", settings.user_code_attempts_overall)]
    if address:
        key = f"address:{addresses.budget_key(address)}"
        budgets.insert(1, (key, settings.user_code_attempts_per_address))
    return budgets


async def take_code_attempt(budgets: list[tuple[str, int]], now: datetime) -> None:
    """Take one attempt from each budget before a typed code is looked up, or 429 (which
    rolls back, so it takes none). Each is one conditional UPDATE of its row, so
    concurrent attempts never check more codes than the budget allows; a right code gives
    its attempts back (`give_back`), a wrong one keeps them spent."""
    window_start = now - CODE_WINDOW
    async with write_transaction():
        for scope, limit in budgets:
            await sql.execute(statements.OPEN_CODE_BUDGET, scope, now)
            took = await sql.fetch_one(
                statements.TAKE_CODE_ATTEMPT,
                window_start,
                window_start,
                now,
                scope,
                window_start,
                limit,
            )
            if took is not None:
                continue
            row = await sql.fetch_one(statements.CODE_BUDGET_START, scope)
            started = row["window_start"] if row else now
            wait = (started + CODE_WINDOW - now).total_seconds()
            raise AppError(
                ErrorCode.RATE_LIMITED,
                "Too many wrong codes; try again later.",
                retry_after=max(1, math.ceil(wait)),
            )


async def give_back(budgets: list[tuple[str, int]]) -> None:
    for scope, _ in budgets:
        await sql.execute(statements.GIVE_BACK_CODE_ATTEMPT, scope)


async def resolve(
    ctx: Context,
    user: models.User,
    data: models.GrantRequest,
    now: datetime,
    address: str | None = None,
) -> Grant:
    """What `data` grants; a typed code is checked against the budgets of the user, of the
    client `address` and of everyone (`take_code_attempt`)."""
    require_one(data)
    if data.user_code is not None:
        code = normalize_user_code(data.user_code)
        if code is None:  # not a code at all: a slip of the keyboard, not a guess
            raise invalid("user_code", "not a code: 8 letters shown as XXXX-XXXX")
        budgets = code_budgets(ctx, user.sub, address)
        await take_code_attempt(budgets, now)
        grant = await QRGrant.select().where(QRGrant.user_code == code).first()
        if grant is None:
            raise _no_such_code()
        async with write_transaction():
            await give_back(budgets)  # a code that exists was not guessed, live or dead
        if grant["expires_at"] <= now:
            raise AppError(
                ErrorCode.USER_CODE_EXPIRED, "This code is no longer valid; ask for a new one."
            )
        invitation = await Invitation.select().where(Invitation.id == grant["invitation"]).first()
        if invitation is None:  # deleted with its client since the code was read
            raise _no_such_code()
        status = views.invitation_status(invitation, now)
        # Its own accepter's repeat (an app retrying) is the token's repeat: the same link.
        repeat = status == "accepted" and invitation["accepted_by"] == user.sub
        if status in USED and not repeat:
            raise AppError(
                ErrorCode.USER_CODE_EXPIRED, "This code was already used; ask for a new one."
            )
        return Grant(invitation=invitation, grant_expires_at=grant["expires_at"], by_code=True)
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
            raise invalid_token()
        return Grant(registration_link=link)
    if claims.typ == "qr":
        grant = await QRGrant.select().where(QRGrant.token_id == claims.jti).first()
        if grant is None:
            raise invalid_token()
        invitation = await sql.fetch_one(statements.INVITATION_BY_ID, grant["invitation"])
        if invitation is None:  # deleted with its client since the grant was read
            raise invalid_token()
        expires = min(grant["expires_at"], datetime.fromtimestamp(claims.exp, now.tzinfo))
        return Grant(
            invitation=invitation,
            grant_expires_at=expires,
            revision=invitation.pop("partner_revision"),
        )
    invitation = await sql.fetch_one(statements.INVITATION_BY_TOKEN, claims.jti)
    if invitation is None:
        raise invalid_token()
    if claims.expired(now.timestamp()) and invitation["status"] == "pending":
        # An invitation made before expiries were whole seconds ends with its token.
        invitation["expires_at"] = min(invitation["expires_at"], now)
    return Grant(invitation=invitation, revision=invitation.pop("partner_revision"))


async def usable_until(ctx: Context, token: str, now: datetime) -> datetime | None:
    """`check_usable(resolve_token(...))`, remembered for invitation tokens while the
    partner's revision stays current (see api.services.revisions): QR images are fetched
    again and again, by mail clients and by pages showing them."""
    cached = ctx.token_states.get(token)
    if cached is not None:
        return cached
    grant = await resolve_token(ctx, token, now)
    expires_at = check_usable(grant, now)
    if grant.invitation is not None and grant.revision is not None and expires_at is not None:
        partner_id = grant.invitation["partner"]
        ctx.token_states.put(token, partner_id, grant.revision, expires_at, expires_at.timestamp())
    return expires_at


def check_usable(grant: Grant, now: datetime) -> datetime | None:
    """Raise the error that says why `grant` cannot be used; else when it stops working."""
    if grant.registration_link is not None:
        usable_registration_link(grant.registration_link, now)
        return grant.registration_link["expires_at"]
    invitation = usable_invitation(grant, now)
    return min(invitation["expires_at"], grant.grant_expires_at or invitation["expires_at"])


def usable_invitation(grant: Grant, now: datetime) -> dict[str, Any]:
    """The pending invitation of `grant`, or the error saying why it is not usable."""
    invitation = grant.invitation
    assert invitation is not None
    status = views.invitation_status(invitation, now)
    if status != "pending":
        raise state_error(status)
    if grant.grant_expires_at is not None and grant.grant_expires_at <= now:
        raise AppError(ErrorCode.TOKEN_EXPIRED, "This QR code has expired; ask for a new one.")
    return invitation


def usable_registration_link(link: dict[str, Any], now: datetime) -> None:
    if link["revoked_at"] is not None:
        raise AppError(ErrorCode.REGISTRATION_LINK_REVOKED, "This registration link was withdrawn.")
    if link["expires_at"] is not None and link["expires_at"] <= now:
        raise AppError(ErrorCode.REGISTRATION_LINK_EXPIRED, "This registration link has expired.")
    if link["max_uses"] is not None and link["uses"] >= link["max_uses"]:
        raise AppError(
            ErrorCode.REGISTRATION_LINK_EXHAUSTED, "This registration link has been used up."
        )
