"""Reminders: a pending invitation gets its email again (same link, same QR) some days
after it was sent, on the partner's schedule (`reminder_days`, or the service's default
`INVITATION_REMINDER_DAYS`).

Each invitation keeps when its next reminder is due (`next_reminder_at`, NULL when none
is). The sweep (`queue_due`) queues the due ones in the mail outbox, one unit of work per
partner, under their clients' locks (and the UPDATE counting a reminder only changes a row
still at the count it read), so however many processes sweep, each reminder is queued
once. None goes out once the invitation is no longer pending, nor to a client whose email
address changed since the invitation (a resend is the way to reach a new address). The
stored time only finds the candidates: the sweep goes by the schedule as it is then, so a
time that is early for it is moved, not sent.

A new invitation takes its first time from the schedule read under the partner row
(`schedule_in_force`), and a schedule change, once it holds that row, looks for pending
invitations it did not move and starts again if it finds any (`reschedule`): of an invite
and a change committing in the same moment, every invitation ends on the schedule in
force.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import msgspec

from api.errors import invalid
from api.services.changes import partner_change
from api.services.context import Context, utcnow
from api.services.views import invitation_status
from db import sql, statements
from db.tables import Client, Invitation, Partner
from db.transactions import lock
from mobile_contract import EventType
from mobile_contract.models import InvitationStatus


def schedule(ctx: Context, stored: str | None) -> list[float]:
    """A partner's reminder days: its own (stored as JSON), else the default."""
    if stored is None:
        return list(ctx.settings.invitation_reminder_days)
    return msgspec.json.decode(stored, type=list[float])


async def partner_schedule(ctx: Context, partner_id: UUID) -> list[float]:
    row = await Partner.select(Partner.reminder_days).where(Partner.id == partner_id).first()
    return schedule(ctx, row["reminder_days"] if row else None)


async def schedule_in_force(ctx: Context, partner_id: UUID) -> list[float]:
    """The schedule of the invitations a unit of work makes, read under the partner row
    (last in the lock order, and the lock the unit of work's own UPDATE of it takes). A
    schedule change that committed first is read here; one that comes later finds this
    one's invitations once it holds that row, and starts again to move them
    (`reschedule`)."""
    await lock(Partner, partner_id)
    return await partner_schedule(ctx, partner_id)


def checked(ctx: Context, days: list[float]) -> str:
    """`days` as stored, or 400 if they are not a schedule for this service's invitations."""
    ttl = ctx.settings.invitation_ttl_days
    if days != sorted(set(days)):
        raise invalid("reminder_days", "must increase, each day once")
    if any(day >= ttl for day in days):
        raise invalid("reminder_days", f"each must be below the invitation lifetime ({ttl} days)")
    return msgspec.json.encode(days).decode()


def due_at(
    sent: datetime,
    days: Sequence[float],
    reminders_sent: int,
    last_reminded: datetime | None = None,
) -> datetime | None:
    """When the next reminder of an invitation made at `sent` is due, if one is: its day on
    the schedule, and never sooner after the last reminder (`last_reminded`) than the
    schedule spaces the two. (A schedule shortened late, or a sweep that was away, sends
    the reminders overdue at that spacing, not one after the other.)"""
    if reminders_sent >= len(days):
        return None
    due = sent + timedelta(days=days[reminders_sent])
    if last_reminded is not None and reminders_sent > 0:
        spacing = timedelta(days=days[reminders_sent] - days[reminders_sent - 1])
        due = max(due, last_reminded + spacing)
    return due


class InvitedMeanwhile(Exception):
    """Raised by `reschedule`: an invite committed while it moved the pending invitations,
    which it did not see. The unit of work is to start again."""


async def reschedule(partner_id: UUID, days: list[float]) -> None:
    """Apply a new schedule to the partner's pending invitations; inside its unit of work,
    before the partner row is changed.

    Their clients are locked first, as everywhere (a sweep counting a reminder meanwhile
    is waited for and its count read), and only their invitations are moved, before the
    partner row is taken (whoever holds it waits for no invitation). Then, under the
    partner row, it looks again: an invite that read the old schedule under that row
    (`schedule_in_force`) and committed meanwhile left invitations of clients not locked
    here. Moving them now could wait for a change holding their client that waits for the
    partner row: `InvitedMeanwhile` instead, and the next try takes them from the start."""
    pending = (Invitation.partner == partner_id) & (Invitation.status == "pending")
    clients = await _clients_of(pending)
    await lock(Client, *clients)
    rows = await Invitation.select(
        Invitation.id,
        Invitation.client,
        Invitation.created_at,
        Invitation.reminders_sent,
        Invitation.last_reminded_at,
    ).where(pending)
    by_due: dict[datetime | None, list[UUID]] = {}
    for row in rows:
        if row["client"] in clients:  # any other is an invite's since: see the check below
            due = due_at(row["created_at"], days, row["reminders_sent"], row["last_reminded_at"])
            by_due.setdefault(due, []).append(row["id"])
    for due, ids in by_due.items():
        for start in range(0, len(ids), 1000):
            await Invitation.update({Invitation.next_reminder_at: due}).where(
                Invitation.id.is_in(ids[start : start + 1000])
            )
    await lock(Partner, partner_id)
    if not (await _clients_of(pending)) <= clients:
        raise InvitedMeanwhile


async def _clients_of(invitations: Any) -> set[UUID]:
    return {row["client"] for row in await Invitation.select(Invitation.client).where(invitations)}


def _due() -> Any:
    """Pending invitations whose stored reminder time has come."""
    return (Invitation.status == "pending") & (Invitation.next_reminder_at <= utcnow())


async def queue_due(ctx: Context, batch: int = 500) -> int:
    """Queue the reminders that are due; how many were queued."""
    due = await Invitation.select(Invitation.partner).where(_due()).limit(batch)
    queued = 0
    for partner_id in dict.fromkeys(row["partner"] for row in due):
        queued += await queue_for_partner(ctx, partner_id, batch)
    return queued


async def queue_for_partner(ctx: Context, partner_id: UUID, batch: int = 500) -> int:
    """One partner's due reminders queued in one unit of work: how many (none when another
    process was first)."""
    reminded: list[dict[str, Any]] = []
    async with partner_change(ctx, partner_id) as change:
        due_now = (Invitation.partner == partner_id) & _due()
        # Their clients locked, then read again: an email change or an answer that
        # committed meanwhile is seen.
        clients = [
            row["client"]
            for row in await Invitation.select(Invitation.client).where(due_now).limit(batch)
        ]
        if not clients:
            change.discard()  # another process was first
        await lock(Client, *clients)
        now = change.now
        rows: list[dict[str, Any]] = await Invitation.select(
            *Invitation.all_columns(), Invitation.client.email.as_alias("now_email")
        ).where(due_now & Invitation.client.is_in(clients))
        days = await partner_schedule(ctx, partner_id)
        changed = False
        for row in rows:
            if row["email_status"] == "queued":
                continue  # the invitation's own email is not out yet: remind after it
            deliverable = (
                invitation_status(row, now) is InvitationStatus.PENDING
                and row["email_status"] == "sent"
                and row["now_email"] == row["email"]
            )
            # Due by the schedule as it is now: a time set under an earlier one (the
            # service's default, changed since by its operator) is put right, not sent early.
            due = (
                due_at(row["created_at"], days, row["reminders_sent"], row["last_reminded_at"])
                if deliverable
                else None
            )
            sendable = due is not None and due <= now
            if sendable:
                count = row["reminders_sent"] + 1
                last, due = now, due_at(row["created_at"], days, count, now)
            else:  # none any more, or not yet
                count, last = row["reminders_sent"], row["last_reminded_at"]
            counted = await (
                Invitation.update(
                    {
                        Invitation.reminders_sent: count,
                        Invitation.last_reminded_at: last,
                        Invitation.next_reminder_at: due,
                    }
                )
                .where(
                    (Invitation.id == row["id"])
                    & (Invitation.reminders_sent == row["reminders_sent"])
                    & (Invitation.status == "pending")
                )
                .returning(Invitation.id)
            )
            changed = changed or bool(counted)
            if counted and sendable:
                reminded.append(row)
                change.emit(
                    EventType.INVITATION_REMINDER_SENT,
                    client=row["client"],
                    invitation=row["id"],
                    data={"reminder": count},
                )
        if not changed:
            change.discard()  # another process was first, or the emails are not out yet
        if reminded:
            outbox = [(row["id"], "reminder", "queued", 0, now, now) for row in reminded]
            await sql.insert(statements.OUTBOX_INSERT, outbox)
            change.after_commit(ctx.mail_queued.set)
    return len(reminded)
