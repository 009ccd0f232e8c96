"""The outbox worker: sends queued invitation emails, retrying with backoff.

Messages are queued in `mail_outbox` in the same transaction as their invitation, and
claimed, leased and retried through `db.claims` (so several processes never send one
message twice, and a crash only delays a message until its lease runs out). Each batch's
outcomes are recorded per partner in one unit of work: the outbox rows, the invitations'
delivery state and their events together.

Rows hold no message (it is rendered from the invitation when it is sent), only its
delivery state; settled rows are deleted after `MAIL_KEEP_DAYS`, when the invitation's
`email_status`/`email_error` and its events are the delivery record.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from concurrent.futures import Executor
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from piccolo.query.functions.aggregate import Count, Min

from api.mail.compose import AccessNoticeMail, Invite
from api.mail.transport import DeliveryError, render_and_send
from api.metrics import MAIL_FAILED, MAIL_OLDEST_AGE, MAIL_PENDING, MAIL_SENT
from api.services import views
from api.services.changes import partner_change
from api.services.context import Context, utcnow
from db.claims import RetryPolicy, Settled, WorkQueue, keep_claiming
from db.tables import AccessNotice, Business, Client, Invitation, MailOutbox, Partner
from db.transactions import lock, write_transaction
from mobile_contract import EventType

log = logging.getLogger("api.mail")
QR_SCALE = 4
BATCHES_IN_FLIGHT = 2  # so the render processes keep busy while outcomes are recorded


class MailWorker:
    def __init__(
        self, ctx: Context, mail_url: str, renderer: Executor | None, policy: RetryPolicy
    ) -> None:
        self.ctx = ctx
        self.mail_url = mail_url
        self.renderer = renderer  # where emails are rendered and sent (None: this thread)
        self.outbox = WorkQueue(MailOutbox, policy, done_status="sent", done_at=MailOutbox.sent_at)
        self.notices = WorkQueue(
            AccessNotice, policy, done_status="sent", done_at=AccessNotice.sent_at
        )
        self._domain = urlsplit(ctx.settings.public_base_url).hostname or "localhost"

    async def run(self, stopping: asyncio.Event | None = None) -> None:
        """Deliver, with a few batches in flight, until `stopping` is set; then finish
        the batches in hand and return."""
        stopping = stopping or asyncio.Event()
        await asyncio.gather(
            *(
                keep_claiming("mail worker", self.run_once, self.ctx.mail_queued, stopping)
                for _ in range(BATCHES_IN_FLIGHT)
            )
        )

    async def run_once(self) -> int:
        """Claim and deliver one batch of each kind of due message; how many were claimed."""
        now = utcnow()
        claimed = await self.outbox.claim(now)
        if claimed:
            await self._deliver(claimed)
        notices = await self.notices.claim(now)
        if notices:
            await self._deliver_notices(notices)
        return len(claimed) + len(notices)

    async def _deliver(self, claimed: list[dict[str, Any]]) -> None:
        """Invitation emails (first sends, resends and reminders)."""
        # With the names, in one statement: a client erased meanwhile is gone from it whole.
        invitations = {
            r["id"]: r
            for r in await Invitation.select(
                *Invitation.all_columns(),
                Invitation.client.name.as_alias("client_name"),
                Invitation.partner.name.as_alias("partner_name"),
            ).where(Invitation.id.is_in([row["invitation"] for row in claimed]))
        }
        claimed = [row for row in claimed if row["invitation"] in invitations]  # not erased
        now = utcnow()
        messages: dict[int, Invite | DeliveryError] = {}
        for row in claimed:
            invitation = invitations[row["invitation"]]
            if views.invitation_status(invitation, now) == "pending":
                messages[row["id"]] = self._invite(invitation, row["kind"])
            else:
                messages[row["id"]] = ENDED
        await self._record(claimed, invitations, await self._send_all(messages))

    async def _deliver_notices(self, claimed: list[dict[str, Any]]) -> None:
        """Access notices: a partner gained access to a business (its admins are told)."""
        names = await _names(
            (Business, {row["business"] for row in claimed}),
            (Partner, {row["partner"] for row in claimed}),
        )
        messages: dict[int, AccessNoticeMail | DeliveryError] = {
            row["id"]: views.from_row(
                AccessNoticeMail,
                row,
                to=row["email"],
                partner_name=names[row["partner"]],
                business_name=names[row["business"]],
            )
            for row in claimed
        }
        outcomes = await self._send_all(messages)
        settled = self.notices.sort([(row, outcomes[row["id"]]) for row in claimed])
        for row, reason in settled.failed:
            log.warning("access notice %s: not delivered: %s", row["id"], reason)
        async with write_transaction():  # a business's mail record: no partner's data
            await self.notices.settle(settled, utcnow())
        _count(len(settled.done), len(settled.failed))

    async def _send_all(
        self, messages: Mapping[int, Invite | AccessNoticeMail | DeliveryError]
    ) -> dict[int, DeliveryError | None]:
        """Render and send each message in the render processes; the outcome of each (a
        DeliveryError in place of a message is its outcome already)."""
        ready = {
            key: message
            for key, message in messages.items()
            if not isinstance(message, DeliveryError)
        }
        loop = asyncio.get_running_loop()
        settings = self.ctx.settings
        delivered = await asyncio.gather(
            *(
                loop.run_in_executor(
                    self.renderer,
                    render_and_send,
                    message,
                    settings.mail_from,
                    self._domain,
                    QR_SCALE,
                    self.mail_url,
                )
                for message in ready.values()
            ),
            return_exceptions=True,
        )
        outcomes: dict[int, DeliveryError | None] = {
            key: message for key, message in messages.items() if isinstance(message, DeliveryError)
        }
        for key, outcome in zip(ready, delivered, strict=True):
            if isinstance(outcome, BaseException) and not isinstance(outcome, DeliveryError):
                log.error("mail %s: cannot send", key, exc_info=outcome)  # a bug
                outcome = DeliveryError(
                    f"internal error: {type(outcome).__name__}", permanent=False
                )
            outcomes[key] = outcome
        return outcomes

    def _invite(self, invitation: dict[str, Any], kind: str) -> Invite:
        token = self.ctx.keys.sign(
            invitation["token_id"], invitation["expires_at"], "inv", invitation["token_kid"]
        )
        urls = self.ctx.urls(token)
        return views.from_row(
            Invite,
            invitation,
            to=invitation["email"],
            url=urls["url"],
            app_url=urls["app_url"],
            replaces_earlier=kind == "resend",
            reminder=kind == "reminder",
        )

    async def _record(
        self,
        claimed: list[dict[str, Any]],
        invitations: dict[UUID, dict[str, Any]],
        outcomes: dict[int, DeliveryError | None],
    ) -> None:
        """Write down the outcomes of a batch: one unit of work per partner."""
        by_partner: dict[UUID, list[dict[str, Any]]] = {}
        for row in claimed:
            by_partner.setdefault(invitations[row["invitation"]]["partner"], []).append(row)
        for partner_id, rows in by_partner.items():
            async with partner_change(self.ctx, partner_id) as change:
                # A client erased meanwhile took its invitations and their mail along:
                # nothing of theirs is recorded.
                await lock(Client, *(invitations[row["invitation"]]["client"] for row in rows))
                alive = {
                    r["id"]
                    for r in await Invitation.select(Invitation.id).where(
                        Invitation.id.is_in([row["invitation"] for row in rows])
                    )
                }
                rows = [row for row in rows if row["invitation"] in alive]
                if not rows:
                    change.discard()
                settled = self.outbox.sort([(row, outcomes[row["id"]]) for row in rows])
                ended = {row["id"] for row in rows if outcomes[row["id"]] is ENDED}
                # An email its invitation no longer needed did not fail: the invitation
                # records it as not sent.
                failed = [(row, why) for row, why in settled.failed if row["id"] not in ended]
                # A reminder's outcome is the outbox row's alone: the invitation's delivery
                # state and events are about its own email.
                first = Settled(
                    [row for row in settled.done if row["kind"] != "reminder"],
                    [(row, why) for row, why in settled.retrying if row["kind"] != "reminder"],
                    [(row, why) for row, why in failed if row["kind"] != "reminder"],
                )
                unneeded = [
                    row["invitation"]
                    for row in rows
                    if row["kind"] != "reminder" and row["id"] in ended
                ]
                await self.outbox.settle(settled, change.now)
                await _invitations_learn(first, unneeded)
                for row in first.done:
                    change.emit(
                        EventType.INVITATION_EMAIL_SENT,
                        client=invitations[row["invitation"]]["client"],
                        invitation=row["invitation"],
                    )
                for row, reason in first.failed:
                    change.emit(
                        EventType.INVITATION_EMAIL_FAILED,
                        client=invitations[row["invitation"]]["client"],
                        invitation=row["invitation"],
                        data={"error": reason},
                    )
                change.after_commit(functools.partial(_count, len(settled.done), len(failed)))


def _count(sent: int, failed: int) -> None:
    MAIL_SENT.inc(sent)
    MAIL_FAILED.inc(failed)


async def _invitations_learn(settled: Settled, unneeded: list[UUID]) -> None:
    """Each invitation's `email_status` and `email_error` say how its email went (`unneeded`:
    those whose email was not sent because they had ended)."""
    if settled.done:
        await Invitation.update(
            {Invitation.email_status: "sent", Invitation.email_error: None}
        ).where(Invitation.id.is_in([row["invitation"] for row in settled.done]))
    for row, reason in settled.retrying:
        log.info("mail %s: attempt %s failed, will retry: %s", row["id"], row["attempts"], reason)
        await Invitation.update({Invitation.email_error: reason}).where(
            Invitation.id == row["invitation"]
        )
    for row, reason in settled.failed:
        log.warning("mail %s: not delivered: %s", row["id"], reason)
        await Invitation.update(
            {Invitation.email_status: "failed", Invitation.email_error: reason}
        ).where(Invitation.id == row["invitation"])
    if unneeded:
        await Invitation.update(
            {Invitation.email_status: "not_sent", Invitation.email_error: ENDED.reason}
        ).where(Invitation.id.is_in(unneeded))


# The outcome of an email whose invitation ended (accepted on the partner's screen, revoked,
# superseded, expired) before it went out: not sent, and not a failure.
ENDED = DeliveryError("the invitation ended before its email went out", permanent=True)


async def _names(
    *wanted: tuple[type[Business] | type[Partner], set[UUID]],
) -> dict[UUID, str]:
    """The names of these rows (businesses, partners), by id."""
    names: dict[UUID, str] = {}
    for table, ids in wanted:
        if ids:
            rows = await table.select(table.id, table.name).where(table.id.is_in(list(ids)))
            names |= {r["id"]: r["name"] for r in rows}
    return names


async def forget_settled_mail(keep: timedelta) -> None:
    """Delete the emails (invitations and access notices) settled, sent or failed, more
    than `keep` ago: an access notice holds an admin's address."""
    before = utcnow() - keep
    for table in (MailOutbox, AccessNotice):
        await table.delete().where(
            table.status.is_in(["sent", "failed"]) & (table.created_at < before)
        )


async def measure_outbox() -> None:
    """Set the outbox gauges: emails queued, and the age of the oldest one."""
    rows = await MailOutbox.select(
        Count(MailOutbox.id, alias="pending"), Min(MailOutbox.created_at, alias="oldest")
    ).where(MailOutbox.status == "queued")
    pending, oldest = rows[0]["pending"], rows[0]["oldest"]
    MAIL_PENDING.set(pending)
    MAIL_OLDEST_AGE.set((utcnow() - oldest).total_seconds() if oldest else 0.0)
