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
import contextlib
import logging
from concurrent.futures import Executor
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

from piccolo.query.functions.aggregate import Count, Min

from api.mail.compose import Invite
from api.mail.transport import DeliveryError, render_and_send
from api.metrics import MAIL_FAILED, MAIL_OLDEST_AGE, MAIL_PENDING, MAIL_SENT
from api.services import views
from api.services.changes import partner_change
from api.services.context import Context, utcnow
from db.claims import RetryPolicy, Settled, WorkQueue
from db.tables import Client, Invitation, MailOutbox, Partner
from mobile_contract import EventType

log = logging.getLogger("api.mail")
QR_SCALE = 4
BATCHES_IN_FLIGHT = 2  # so the render processes keep busy while outcomes are recorded
IDLE_POLL = 1.0  # seconds between looks at an empty outbox (new mail wakes it at once)


class MailWorker:
    def __init__(
        self, ctx: Context, mail_url: str, renderer: Executor | None, policy: RetryPolicy
    ) -> None:
        self.ctx = ctx
        self.mail_url = mail_url
        self.renderer = renderer  # where emails are rendered and sent (None: this thread)
        self.outbox = WorkQueue(MailOutbox, policy, done_status="sent", done_at=MailOutbox.sent_at)
        self._domain = urlsplit(ctx.settings.public_base_url).hostname or "localhost"

    async def run(self, stopping: asyncio.Event | None = None) -> None:
        """Deliver, with a few batches in flight, until `stopping` is set; then finish
        the batches in hand and return."""
        stopping = stopping or asyncio.Event()
        await asyncio.gather(*(self._loop(stopping) for _ in range(BATCHES_IN_FLIGHT)))

    async def _loop(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                sent = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be away; try again shortly
                log.warning("mail worker: %s: %s", type(exc).__name__, exc)
                sent = 0
            if sent == 0 and not stopping.is_set():
                # Idle: wait for a new message (ctx.mail_queued, also set on stop) or the
                # next poll.
                queued = self.ctx.mail_queued
                queued.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(queued.wait(), IDLE_POLL)

    async def run_once(self) -> int:
        """Claim and deliver one batch of due messages; how many were claimed."""
        claimed = await self.outbox.claim(utcnow())
        if claimed:
            await self._deliver(claimed)
        return len(claimed)

    async def _deliver(self, claimed: list[dict[str, Any]]) -> None:
        invitations = {
            r["id"]: r
            for r in await Invitation.select().where(
                Invitation.id.is_in([row["invitation"] for row in claimed])
            )
        }
        names = await _names(list(invitations.values()))
        now = utcnow()
        outcomes: dict[int, DeliveryError | None] = {}
        sendable: list[dict[str, Any]] = []
        for row in claimed:
            if views.invitation_status(invitations[row["invitation"]], now) == "pending":
                sendable.append(row)
            else:
                outcomes[row["id"]] = ENDED
        delivered = await asyncio.gather(
            *(
                self._send(invitations[row["invitation"]], names, row["kind"] == "resend")
                for row in sendable
            ),
            return_exceptions=True,
        )
        for row, outcome in zip(sendable, delivered, strict=True):
            if isinstance(outcome, BaseException) and not isinstance(outcome, DeliveryError):
                log.error("mail %s: cannot send", row["id"], exc_info=outcome)  # a bug
                outcome = DeliveryError(
                    f"internal error: {type(outcome).__name__}", permanent=False
                )
            outcomes[row["id"]] = outcome
        await self._record(claimed, invitations, outcomes)

    async def _send(
        self, invitation: dict[str, Any], names: dict[UUID, str], replaces_earlier: bool
    ) -> DeliveryError | None:
        token = self.ctx.token(
            invitation["token_id"], invitation["expires_at"], "inv", invitation["token_kid"]
        )
        if token is None:
            raise DeliveryError(
                "not sent: the invitation's signing key was rotated out", permanent=True
            )
        urls = self.ctx.urls(token)
        invite = Invite(
            to=invitation["email"],
            client_name=names[invitation["client"]],
            partner_name=names[invitation["partner"]],
            language=invitation["language"],
            message=invitation["message"],
            access_level=invitation["access_level"],
            url=urls["url"],
            app_url=urls["app_url"],
            expires_at=invitation["expires_at"],
            replaces_earlier=replaces_earlier,
        )
        return await asyncio.get_running_loop().run_in_executor(
            self.renderer,
            render_and_send,
            invite,
            self.ctx.settings.mail_from,
            self._domain,
            QR_SCALE,
            self.mail_url,
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
            settled = self.outbox.sort([(row, outcomes[row["id"]]) for row in rows])
            async with partner_change(self.ctx, partner_id) as change:
                await self.outbox.settle(settled, change.now)
                await _invitations_learn(settled)
                for row in settled.done:
                    change.emit(
                        EventType.INVITATION_EMAIL_SENT,
                        client=invitations[row["invitation"]]["client"],
                        invitation=row["invitation"],
                    )
                for row, reason in settled.failed:
                    change.emit(
                        EventType.INVITATION_EMAIL_FAILED,
                        client=invitations[row["invitation"]]["client"],
                        invitation=row["invitation"],
                        data={"error": reason},
                    )
            MAIL_SENT.inc(len(settled.done))
            MAIL_FAILED.inc(len(settled.failed))


async def _invitations_learn(settled: Settled) -> None:
    """Each invitation's `email_status` and `email_error` say how its email went."""
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


ENDED = DeliveryError("not sent: the invitation ended before its email went out", permanent=True)


async def _names(invitations: list[dict[str, Any]]) -> dict[UUID, str]:
    """Names of the clients and partners of these invitations, by id."""
    client_ids = list({i["client"] for i in invitations})
    partner_ids = list({i["partner"] for i in invitations})
    names: dict[UUID, str] = {}
    if client_ids:
        names |= {
            r["id"]: r["name"]
            for r in await Client.select(Client.id, Client.name).where(Client.id.is_in(client_ids))
        }
    if partner_ids:
        names |= {
            r["id"]: r["name"]
            for r in await Partner.select(Partner.id, Partner.name).where(
                Partner.id.is_in(partner_ids)
            )
        }
    return names


async def forget_settled_mail(keep: timedelta) -> None:
    """Delete outbox rows settled (sent or failed) more than `keep` ago."""
    before = utcnow() - keep
    await MailOutbox.delete().where(
        MailOutbox.status.is_in(["sent", "failed"]) & (MailOutbox.created_at < before)
    )


async def measure_outbox() -> None:
    """Set the outbox gauges: emails queued, and the age of the oldest one."""
    rows = await MailOutbox.select(
        Count(MailOutbox.id, alias="pending"), Min(MailOutbox.created_at, alias="oldest")
    ).where(MailOutbox.status == "queued")
    pending, oldest = rows[0]["pending"], rows[0]["oldest"]
    MAIL_PENDING.set(pending)
    MAIL_OLDEST_AGE.set((utcnow() - oldest).total_seconds() if oldest else 0.0)
