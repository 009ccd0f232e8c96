"""Invitations from the partner's side: invite, read, resend, revoke, on-screen QR."""

from __future__ import annotations

import functools
import math
import secrets
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import msgspec

from api.errors import AppError, not_found
from api.services import events, views
from api.services.access import require_partner_member
from api.services.context import Context, utcnow
from api.services.events import NewEvent
from api.tokens import new_token_id
from db import sql
from db.tables import Client, Invitation, QRGrant
from db.transactions import lock, one, write_transaction
from mobile_contract import ErrorCode, models
from mobile_contract.links import USER_CODE_ALPHABET, USER_CODE_LENGTH, format_user_code

RESEND_COOLDOWN = timedelta(seconds=60)
MARK_PER_STATEMENT = 1000

# Why an invitation in a given (read) status cannot be used any more.
STATE_ERRORS = {
    "expired": (ErrorCode.INVITATION_EXPIRED, "This invitation has expired."),
    "revoked": (ErrorCode.INVITATION_REVOKED, "This invitation was withdrawn."),
    "superseded": (ErrorCode.INVITATION_SUPERSEDED, "A newer invitation replaced this one."),
    "declined": (ErrorCode.INVITATION_DECLINED, "This invitation was declined."),
    "accepted": (ErrorCode.INVITATION_ALREADY_ACCEPTED, "This invitation was already accepted."),
}


def state_error(status: str) -> AppError:
    code, detail = STATE_ERRORS[status]
    return AppError(code, detail)


def _item_error(code: ErrorCode, detail: str) -> models.ItemError:
    return models.ItemError(code=code.value, detail=detail)


def _new_invitation(
    ctx: Context,
    user: models.User,
    client: dict[str, Any],
    now: datetime,
    *,
    message: str | None,
    access_level: str,
    replaces: UUID | None = None,
) -> dict[str, Any]:
    """A new invitation row (every column)."""
    return {
        "id": uuid4(),
        "partner": client["partner"],
        "client": client["id"],
        "status": "pending",
        "email": client["email"],
        "language": client["language"],
        "message": message,
        "access_level": access_level,
        "token_id": new_token_id(),
        "token_kid": ctx.keys.kid,
        "replaces": replaces,
        "created_by": user.sub,
        "created_at": now,
        "expires_at": now + timedelta(days=ctx.settings.invitation_ttl_days),
        "opened_at": None,
        "accepted_at": None,
        "accepted_by": None,
        "declined_at": None,
        "revoked_at": None,
        "link": None,
        "email_status": "queued",
        "email_error": None,
    }


OUTBOX_COLUMNS = ("invitation", "kind", "status", "attempts", "next_attempt_at", "created_at")


@functools.cache
def mark_invited(count: int) -> sql.Statement:
    """Clients become `invited`, pointing at their (one) pending invitation."""
    return sql.Statement(
        "UPDATE client SET status = 'invited', invitation_expires_at = {}, updated_at = {},"
        " latest_invitation = (SELECT invitation.id FROM invitation"
        " WHERE invitation.client = client.id AND invitation.status = 'pending')"
        f" WHERE id IN ({', '.join(['{}'] * count)})"
    )


async def _queue(invitations: list[dict[str, Any]], kind: str, now: datetime) -> None:
    """Store new invitations (made at `now`), queue their emails and mark their clients
    invited; inside the use case's transaction, in a few statements however many."""
    columns = tuple(invitations[0])
    await sql.insert("invitation", columns, [tuple(i.values()) for i in invitations])
    outbox = [(i["id"], kind, "queued", 0, now, now) for i in invitations]
    await sql.insert("mail_outbox", OUTBOX_COLUMNS, outbox)
    for start in range(0, len(invitations), MARK_PER_STATEMENT):
        chunk = invitations[start : start + MARK_PER_STATEMENT]
        await sql.execute(
            mark_invited(len(chunk)), chunk[0]["expires_at"], now, *(i["client"] for i in chunk)
        )


async def _expire_stale(partner_id: UUID, client_ids: list[UUID], now: datetime) -> list[NewEvent]:
    """Mark past-expiry pending invitations of these clients `expired` (they are about to
    get a new one, and only one pending invitation per client may exist)."""
    if not client_ids:
        return []
    rows = (
        await Invitation.update({Invitation.status: "expired"})
        .where(
            Invitation.client.is_in(client_ids)
            & (Invitation.status == "pending")
            & (Invitation.expires_at <= now)
        )
        .returning(Invitation.id, Invitation.client)
    )
    return [
        NewEvent(type="invitation.expired", client=r["client"], invitation=r["id"]) for r in rows
    ]


async def invite(
    ctx: Context, user: models.User, partner_id: UUID, data: models.InviteRequest
) -> models.InviteResponse:
    """Invite each listed client; each gets its own result, and an email is queued."""
    await require_partner_member(user.sub, partner_id)
    now = utcnow()
    results: list[models.InviteResult] = []
    created: list[dict[str, Any]] = []
    async with write_transaction():
        wanted = list(dict.fromkeys(data.client_ids))
        await lock(Client, *wanted)
        clients = {
            r["id"]: r
            for r in await Client.select().where(
                (Client.partner == partner_id) & Client.id.is_in(wanted)
            )
        }
        seen: set[UUID] = set()
        stale: list[UUID] = []
        for client_id in data.client_ids:
            row = clients.get(client_id)
            status = views.client_status(row, now) if row else None
            error = None
            if row is None:
                error = _item_error(ErrorCode.NOT_FOUND, "No such client")
            elif status == "active":
                error = _item_error(
                    ErrorCode.CLIENT_ALREADY_ACTIVE, "The client is already linked."
                )
            elif status == "invited" or client_id in seen:
                error = _item_error(
                    ErrorCode.CLIENT_ALREADY_INVITED, "The client has a pending invitation."
                )
            elif not row["email"]:
                error = _item_error(
                    ErrorCode.CLIENT_MISSING_EMAIL, "The client has no email address."
                )
            if error is not None:
                results.append(models.InviteResult(client_id=client_id, error=error))
                continue
            assert row is not None
            seen.add(client_id)
            if row["status"] == "invited":
                stale.append(client_id)
            invitation = _new_invitation(
                ctx, user, row, now, message=data.message, access_level=data.access_level
            )
            created.append(invitation)
            results.append(
                models.InviteResult(
                    client_id=client_id, invitation=views.invitation(ctx, invitation, now)
                )
            )
        if created:
            new_events = await _expire_stale(partner_id, stale, now)
            await _queue(created, "invite", now)
            new_events += [
                NewEvent(type="invitation.created", client=i["client"], invitation=i["id"])
                for i in created
            ]
            await events.record(partner_id, new_events, now)
    if created:
        ctx.bus.publish(partner_id)
        ctx.mail_queued.set()
    return models.InviteResponse(results=results)


async def _invitation_row(partner_id: UUID, invitation_id: UUID) -> dict[str, Any]:
    row = (
        await Invitation.select()
        .where((Invitation.id == invitation_id) & (Invitation.partner == partner_id))
        .first()
    )
    if row is None:
        raise not_found("No such invitation")
    return row


async def get(
    ctx: Context, user: models.User, partner_id: UUID, invitation_id: UUID
) -> models.Invitation:
    await require_partner_member(user.sub, partner_id)
    return views.invitation(ctx, await _invitation_row(partner_id, invitation_id), utcnow())


async def resend(
    ctx: Context,
    user: models.User,
    partner_id: UUID,
    invitation_id: UUID,
    data: models.ResendRequest,
) -> models.Invitation:
    """Replace the client's latest invitation with a new one (and a new email)."""
    await require_partner_member(user.sub, partner_id)
    now = utcnow()
    async with write_transaction():
        old = await _invitation_row(partner_id, invitation_id)
        await lock(Client, old["client"])
        old = await _invitation_row(partner_id, invitation_id)
        client = await one(Client.select().where(Client.id == old["client"]))
        status = views.invitation_status(old, now)
        if status == "superseded" or client["latest_invitation"] != old["id"]:
            raise state_error("superseded")
        if views.client_status(client, now) == "active":
            raise AppError(
                ErrorCode.CLIENT_ALREADY_ACTIVE, "The client is linked; disconnect it first."
            )
        wait = RESEND_COOLDOWN - (now - old["created_at"])
        if wait > timedelta(0):
            raise AppError(
                ErrorCode.RATE_LIMITED,
                "This client was invited less than a minute ago; try again shortly.",
                retry_after=max(1, math.ceil(wait.total_seconds())),
            )
        if not client["email"]:
            raise AppError(ErrorCode.CLIENT_MISSING_EMAIL, "The client has no email address.")
        message = old["message"] if data.message is msgspec.UNSET else data.message
        new = _new_invitation(
            ctx,
            user,
            client,
            now,
            message=message,
            access_level=old["access_level"],
            replaces=old["id"],
        )
        await Invitation.update({Invitation.status: "superseded"}).where(Invitation.id == old["id"])
        await _queue([new], "resend", now)
        await events.record(
            partner_id,
            [
                NewEvent(
                    type="invitation.superseded",
                    client=new["client"],
                    invitation=old["id"],
                    data={"replaced_by": str(new["id"])},
                ),
                NewEvent(
                    type="invitation.created",
                    client=new["client"],
                    invitation=new["id"],
                    data={"replaces": str(old["id"])},
                ),
            ],
            now,
        )
    ctx.bus.publish(partner_id)
    ctx.mail_queued.set()
    return views.invitation(ctx, new, now)


async def revoke(
    ctx: Context, user: models.User, partner_id: UUID, invitation_id: UUID
) -> models.Invitation:
    """Withdraw a pending (or expired) invitation; the client goes back to `inactive`."""
    await require_partner_member(user.sub, partner_id)
    now = utcnow()
    async with write_transaction():
        row = await _invitation_row(partner_id, invitation_id)
        await lock(Client, row["client"])
        row = await _invitation_row(partner_id, invitation_id)
        status = views.invitation_status(row, now)
        if status in ("superseded", "accepted", "declined"):
            raise state_error(status)
        if status != "revoked":
            await Invitation.update(
                {Invitation.status: "revoked", Invitation.revoked_at: now}
            ).where(Invitation.id == invitation_id)
            await Client.update({Client.status: "inactive", Client.updated_at: now}).where(
                (Client.id == row["client"])
                & (Client.latest_invitation == invitation_id)
                & (Client.status == "invited")
            )
            await events.record(
                partner_id,
                [
                    NewEvent(
                        type="invitation.revoked", client=row["client"], invitation=invitation_id
                    )
                ],
                now,
            )
        row = await _invitation_row(partner_id, invitation_id)
    ctx.bus.publish(partner_id)
    return views.invitation(ctx, row, now)


def new_user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


async def qr_token(
    ctx: Context,
    user: models.User,
    partner_id: UUID,
    invitation_id: UUID,
    data: models.QRTokenRequest,
) -> models.QRToken:
    """A short-lived token (and typed code) for a QR shown on the partner's own screen."""
    await require_partner_member(user.sub, partner_id)
    now = utcnow()
    row = await _invitation_row(partner_id, invitation_id)
    status = views.invitation_status(row, now)
    if status != "pending":
        raise state_error(status)
    expires = min(now + timedelta(seconds=data.ttl_seconds), row["expires_at"])
    # Whole seconds: the token's `exp` is an integer and must match the stored expiry.
    expires = expires.replace(microsecond=0)
    grant = QRGrant(
        invitation=invitation_id,
        token_id=new_token_id(),
        token_kid=ctx.keys.kid,
        user_code=new_user_code(),
        created_at=now,
        expires_at=expires,
    )
    await grant.save()
    token = ctx.keys.sign(grant.token_id, expires, "qr")
    return models.QRToken(
        token=token,
        user_code=format_user_code(grant.user_code),
        expires_at=expires,
        **ctx.urls(token),
    )


async def expire_due(ctx: Context, batch: int = 500) -> int:
    """Mark pending invitations past their expiry `expired` and say so in events.

    Reads already treat them as expired; this writes it down once, for the event stream.
    Safe to run in several processes: only the process whose UPDATE changed a row
    records its event.
    """
    now = utcnow()
    due = (
        await Invitation.select(Invitation.id, Invitation.partner, Invitation.client)
        .where((Invitation.status == "pending") & (Invitation.expires_at <= now))
        .limit(batch)
    )
    by_partner: dict[UUID, list[dict[str, Any]]] = {}
    for row in due:
        by_partner.setdefault(row["partner"], []).append(row)
    expired = 0
    for partner_id, rows_due in by_partner.items():
        ids = [r["id"] for r in rows_due]
        async with write_transaction():
            await lock(Client, *(r["client"] for r in rows_due))
            rows = (
                await Invitation.update({Invitation.status: "expired"})
                .where(
                    Invitation.id.is_in(ids)
                    & (Invitation.status == "pending")
                    & (Invitation.expires_at <= now)
                )
                .returning(Invitation.id, Invitation.client)
            )
            if not rows:
                continue
            await Client.update({Client.status: "inactive", Client.updated_at: now}).where(
                Client.latest_invitation.is_in([r["id"] for r in rows])
                & (Client.status == "invited")
            )
            await events.record(
                partner_id,
                [
                    NewEvent(type="invitation.expired", client=r["client"], invitation=r["id"])
                    for r in rows
                ],
                now,
            )
        expired += len(rows)
        ctx.bus.publish(partner_id)
    return expired
