"""Invitations from the partner's side: invite, read, resend, revoke, on-screen QR."""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import msgspec

from api.errors import AppError, not_found
from api.services import reminders, sending, views
from api.services.access import Member, partner_row
from api.services.changes import PartnerChange, partner_change
from api.services.clients import back_to_inactive
from api.services.context import Context, utcnow
from api.tokens import new_token_id
from db import sql, statements
from db.errors import is_unique_violation
from db.tables import Client, Invitation, Partner, QRGrant
from db.transactions import lock, one, write_transaction
from mobile_contract import ErrorCode, EventType, models
from mobile_contract.links import USER_CODE_ALPHABET, USER_CODE_LENGTH, format_user_code
from mobile_contract.models import EmailStatus

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


def state_error(status: str, **extra: Any) -> AppError:
    code, detail = STATE_ERRORS[status]
    return AppError(code, detail, **extra)


async def explained(error: AppError, invitation: dict[str, Any] | None, user_sub: str) -> AppError:
    """`error` with what the caller needs to act on it: for a superseded invitation the
    one that replaced it; for an accepted one whose it was, when, and whether the caller
    (`user_sub`) accepted it."""
    if invitation is None:
        return error
    if error.code is ErrorCode.INVITATION_SUPERSEDED:
        client = (
            await Client.select(Client.latest_invitation)
            .where(Client.id == invitation["client"])
            .first()
        )
        if client is not None and client["latest_invitation"] != invitation["id"]:
            error.extra["latest_invitation_id"] = client["latest_invitation"]
    elif error.code is ErrorCode.INVITATION_ALREADY_ACCEPTED:
        partner = await one(
            Partner.select(Partner.id, Partner.name).where(Partner.id == invitation["partner"])
        )
        error.extra |= {
            "partner": models.PartnerRef(id=partner["id"], name=partner["name"]),
            "accepted_at": invitation["accepted_at"],
            "accepted_by_you": invitation["accepted_by"] == user_sub,
        }
    return error


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
    """A new invitation row: every column but `next_reminder_at`, which `_queue` gives it
    under the partner row."""
    return {
        "id": uuid4(),
        "partner": client["partner"],
        "client": client["id"],
        "status": "pending",
        "email": client["email"] or "",
        "language": client["language"],
        "message": message,
        "access_level": access_level,
        "token_id": new_token_id(),
        "token_kid": ctx.keys.kid,
        "replaces": replaces,
        "created_by": user.sub,
        "created_at": now,
        # Whole seconds, as its token's `exp`: the token and the row end at one instant.
        "expires_at": (now + timedelta(days=ctx.settings.invitation_ttl_days)).replace(
            microsecond=0
        ),
        "opened_at": None,
        "accepted_at": None,
        "accepted_by": None,
        "declined_at": None,
        "revoked_at": None,
        "link": None,
        "email_status": "queued",
        "email_error": None,
        "reminders_sent": 0,
        "last_reminded_at": None,
    }


async def _queue(
    ctx: Context, change: PartnerChange, invitations: list[dict[str, Any]], kind: str
) -> None:
    """Store new invitations, queue their emails (the outbox worker looks at once after
    the commit) and mark their clients invited; in a few statements however many."""
    now = change.now
    schedule = await reminders.schedule_in_force(ctx, change.partner_id)
    first_reminder = {"next_reminder_at": reminders.due_at(now, schedule, 0)}
    columns = statements.INVITATION_INSERT.columns
    rows = (i | first_reminder for i in invitations)
    await sql.insert(statements.INVITATION_INSERT, [tuple(r[c] for c in columns) for r in rows])
    outbox = [
        (i["id"], kind, "queued", 0, now, now) for i in invitations if i["email_status"] == "queued"
    ]
    if outbox:
        await sql.insert(statements.OUTBOX_INSERT, outbox)
    for start in range(0, len(invitations), MARK_PER_STATEMENT):
        chunk = invitations[start : start + MARK_PER_STATEMENT]
        await sql.execute(
            statements.mark_invited(len(chunk)),
            chunk[0]["expires_at"],
            now,
            now,
            *(i["client"] for i in chunk),
        )
    for invitation in invitations:
        change.emit(
            EventType.INVITATION_CREATED,
            client=invitation["client"],
            invitation=invitation["id"],
            data={"replaces": str(invitation["replaces"])} if invitation["replaces"] else None,
        )
    change.after_commit(ctx.mail_queued.set)


async def _expire(change: PartnerChange, due: Any) -> list[dict[str, Any]]:
    """Mark the pending invitations that `due` selects and whose expiry has passed
    `expired`; their clients go back to inactive. The rows changed."""
    rows: list[dict[str, Any]] = (
        await Invitation.update({Invitation.status: "expired"})
        .where(due & (Invitation.status == "pending") & (Invitation.expires_at <= change.now))
        .returning(Invitation.id, Invitation.client)
    )
    await back_to_inactive(change.now, invitations=[r["id"] for r in rows])
    for r in rows:
        change.emit(EventType.INVITATION_EXPIRED, client=r["client"], invitation=r["id"])
    return rows


async def invite(ctx: Context, member: Member, data: models.InviteRequest) -> models.InviteResponse:
    """Invite each listed client; each gets its own result, and an email is queued
    (unless `send_email` is false: then the invitation is for the on-screen QR only)."""
    results: list[models.InviteResult] = []
    async with partner_change(ctx, member.partner_id) as change:
        wanted = list(dict.fromkeys(data.client_ids))
        await lock(Client, *wanted)
        now = change.now
        clients = {
            r["id"]: r
            for r in await Client.select().where(
                (Client.partner == member.partner_id) & Client.id.is_in(wanted)
            )
        }
        created: list[dict[str, Any]] = []
        seen: set[UUID] = set()
        stale: list[UUID] = []
        for client_id in data.client_ids:
            row = clients.get(client_id)
            error = _invite_error(row, now, already=client_id in seen, email=data.send_email)
            if error is not None:
                results.append(models.InviteResult(client_id=client_id, error=error))
                continue
            assert row is not None
            seen.add(client_id)
            if row["status"] == "invited":
                stale.append(client_id)
            invitation = _new_invitation(
                ctx,
                member.user,
                row,
                now,
                message=data.message,
                access_level=data.access_level,
            )
            if not data.send_email:
                invitation["email_status"] = EmailStatus.NOT_SENT.value
            created.append(invitation)
            results.append(
                models.InviteResult(
                    client_id=client_id, invitation=views.invitation(ctx, invitation, now)
                )
            )
        if created:
            if data.send_email:
                await sending.take_invites(ctx, member.partner_id, len(created), now)
            if stale:
                await _expire(change, Invitation.client.is_in(stale))
            await _queue(ctx, change, created, "invite")
    return models.InviteResponse(results=results)


def _invite_error(
    row: dict[str, Any] | None, now: datetime, *, already: bool, email: bool
) -> models.ItemError | None:
    """Why this client (None: not the partner's) cannot be invited now, if it cannot."""
    if row is None:
        return _item_error(ErrorCode.NOT_FOUND, "No such client")
    status = views.client_status(row, now)
    if status == "active":
        return _item_error(ErrorCode.CLIENT_ALREADY_ACTIVE, "The client is already linked.")
    if status == "invited" or already:
        return _item_error(ErrorCode.CLIENT_ALREADY_INVITED, "The client has a pending invitation.")
    if email and not row["email"]:
        return _item_error(ErrorCode.CLIENT_MISSING_EMAIL, "The client has no email address.")
    return None


async def _invitation_row(partner_id: UUID, invitation_id: UUID) -> dict[str, Any]:
    return await partner_row(Invitation, partner_id, invitation_id, "invitation")


async def held_invitation(row: dict[str, Any]) -> dict[str, Any] | None:
    """Invitation `row` read again once its client is locked (whoever changes an
    invitation's status locks its client first, so it holds still until commit); None if
    it was deleted meanwhile, with its client."""
    await lock(Client, row["client"])
    return await sql.fetch_one(statements.INVITATION, row["id"])


async def _locked_invitation(partner_id: UUID, invitation_id: UUID) -> dict[str, Any]:
    """The partner's invitation, held (`held_invitation`), or 404."""
    held = await held_invitation(await _invitation_row(partner_id, invitation_id))
    if held is None:
        raise not_found("No such invitation")
    return held


async def get(ctx: Context, member: Member, invitation_id: UUID) -> models.Invitation:
    return views.invitation(ctx, await _invitation_row(member.partner_id, invitation_id), utcnow())


def require_latest(invitation: dict[str, Any], client: dict[str, Any]) -> None:
    """410 `invitation_superseded` naming the client's latest invitation, unless it is
    `invitation`: only the latest one is resent or withdrawn."""
    if client["latest_invitation"] != invitation["id"]:
        raise state_error("superseded", latest_invitation_id=client["latest_invitation"])


async def resend(
    ctx: Context, member: Member, invitation_id: UUID, data: models.ResendRequest
) -> models.Invitation:
    """A new invitation (and a new email) in place of the client's latest one, which
    becomes `superseded` whatever it was (`pending`, `expired`, `declined`, `revoked`, or
    `accepted` and since disconnected; its `*_at` times and the events keep what happened)
    and its tokens stop working. Only the latest one can be resent."""
    async with partner_change(ctx, member.partner_id) as change:
        old = await _locked_invitation(member.partner_id, invitation_id)
        now = change.now
        client = await one(Client.select().where(Client.id == old["client"]))
        require_latest(old, client)  # a superseded one never is the latest
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
        await sending.take_invites(ctx, member.partner_id, 1, now)
        new = _new_invitation(
            ctx,
            member.user,
            client,
            now,
            message=message,
            access_level=old["access_level"],
            replaces=old["id"],
        )
        await Invitation.update({Invitation.status: "superseded"}).where(Invitation.id == old["id"])
        change.emit(
            EventType.INVITATION_SUPERSEDED,
            client=new["client"],
            invitation=old["id"],
            data={"replaced_by": str(new["id"])},
        )
        await _queue(ctx, change, [new], "resend")
    return views.invitation(ctx, new, now)


async def revoke(ctx: Context, member: Member, invitation_id: UUID) -> models.Invitation:
    """Withdraw a pending (or expired) invitation; the client goes back to `inactive`. An
    expired one that a later invitation followed is past withdrawing, as past resending:
    410 `invitation_superseded`, naming the latest."""
    async with partner_change(ctx, member.partner_id) as change:
        row = await _locked_invitation(member.partner_id, invitation_id)
        now = change.now
        status = views.invitation_status(row, now)
        if status in ("superseded", "accepted", "declined"):
            raise await explained(state_error(status), row, member.user.sub)
        if status != "revoked":
            require_latest(
                row,
                await one(
                    Client.select(Client.latest_invitation).where(Client.id == row["client"])
                ),
            )
            await Invitation.update(
                {Invitation.status: "revoked", Invitation.revoked_at: now}
            ).where(Invitation.id == invitation_id)
            await back_to_inactive(now, invitations=[invitation_id])
            change.emit(
                EventType.INVITATION_REVOKED, client=row["client"], invitation=invitation_id
            )
            row = await _invitation_row(member.partner_id, invitation_id)
    return views.invitation(ctx, row, now)


def new_user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


CODE_TRIES = 5  # draws of a typed code before a collision is an error (1 in 10^10 each)


async def qr_token(
    ctx: Context, member: Member, invitation_id: UUID, data: models.QRTokenRequest
) -> models.QRToken:
    """A short-lived token (and typed code) for a QR shown on the partner's own screen."""
    for attempt in range(CODE_TRIES):  # codes are unique: a collision draws another
        try:
            async with write_transaction():
                # Under its client's lock, as every write about an invitation: a delete of
                # the client, an answer, a revoke or the expiry that came first is its 4xx;
                # one that comes later waits for the grant.
                row = await _locked_invitation(member.partner_id, invitation_id)
                now = utcnow()
                status = views.invitation_status(row, now)
                if status != "pending":
                    raise await explained(state_error(status), row, member.user.sub)
                expires = min(now + timedelta(seconds=data.ttl_seconds), row["expires_at"])
                grant = QRGrant(
                    invitation=invitation_id,
                    token_id=new_token_id(),
                    token_kid=ctx.keys.kid,
                    user_code=new_user_code(),
                    created_at=now,
                    # Whole seconds: the token's `exp` is an integer, and must be this.
                    expires_at=expires.replace(microsecond=0),
                )
                await grant.save()
            break
        except Exception as exc:
            if not is_unique_violation(exc) or attempt == CODE_TRIES - 1:
                raise
    token = ctx.keys.sign(grant.token_id, grant.expires_at, "qr")
    return models.QRToken(
        token=token,
        user_code=format_user_code(grant.user_code),
        expires_at=grant.expires_at,
        **ctx.urls(token),
    )


async def expire_due(ctx: Context, batch: int = 500) -> int:
    """Mark pending invitations past their expiry `expired` and say so in events.

    Reads already treat them as expired; this writes it down once, for the event stream.
    Safe to run in several processes: only the process whose UPDATE changed a row
    records its event.
    """
    due = (
        await Invitation.select(Invitation.id, Invitation.partner, Invitation.client)
        .where((Invitation.status == "pending") & (Invitation.expires_at <= utcnow()))
        .limit(batch)
    )
    by_partner: dict[UUID, list[dict[str, Any]]] = {}
    for row in due:
        by_partner.setdefault(row["partner"], []).append(row)
    expired = 0
    for partner_id, rows_due in by_partner.items():
        async with partner_change(ctx, partner_id) as change:
            await lock(Client, *(r["client"] for r in rows_due))
            done = await _expire(change, Invitation.id.is_in([r["id"] for r in rows_due]))
            if not done:
                change.discard()
            expired += len(done)
    return expired
