"""The outbox worker: sends queued invitation emails, retrying with backoff.

Messages are queued in `mail_outbox` in the same transaction as their invitation. A
worker claims due rows by setting a lease (`locked_until`); on PostgreSQL the claiming
SELECT skips rows another process is claiming at that moment (`FOR UPDATE SKIP LOCKED`),
and SQLite serialises claims in an immediate transaction. So several processes never
send one message twice, and a crash only delays a message until its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import Executor
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import msgspec

from api.mail.compose import Invite
from api.mail.transport import DeliveryError, render_and_send
from api.services import events
from api.services.context import Context, utcnow
from api.services.events import NewEvent
from db.tables import Client, Invitation, MailOutbox, Partner
from db.transactions import IS_POSTGRES, write_transaction

log = logging.getLogger("api.mail")
QR_SCALE = 4


class MailPolicy(msgspec.Struct, frozen=True, kw_only=True):
    batch: int = 50
    batches: int = 2
    lease: timedelta = timedelta(seconds=120)
    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=10)
    retry_cap: timedelta = timedelta(hours=1)
    idle_poll: float = 1.0

    def backoff(self, attempts: int) -> timedelta:
        return min(self.retry_cap, self.retry_base * 2 ** max(0, attempts - 1))


class MailWorker:
    def __init__(
        self, ctx: Context, mail_url: str, renderer: Executor | None, policy: MailPolicy
    ) -> None:
        self.ctx = ctx
        self.mail_url = mail_url
        self.renderer = renderer  # where emails are rendered and sent (None: this thread)
        self.policy = policy
        self._domain = urlsplit(ctx.settings.public_base_url).hostname or "localhost"

    async def run(self) -> None:
        """Deliver forever, with `policy.batches` batches in flight so that the render
        processes (which render and send) keep busy while outcomes are recorded."""
        await asyncio.gather(*(self._loop() for _ in range(self.policy.batches)))

    async def _loop(self) -> None:
        while True:
            try:
                sent = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be away; try again shortly
                log.warning("mail worker: %s: %s", type(exc).__name__, exc)
                sent = 0
            if sent == 0:  # idle: wait for a new message (ctx.mail_queued) or the next poll
                queued = self.ctx.mail_queued
                queued.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(queued.wait(), self.policy.idle_poll)

    async def run_once(self) -> int:
        """Claim and deliver one batch of due messages; how many were claimed."""
        claimed = await self._claim(utcnow())
        if claimed:
            await self._deliver(claimed)
        return len(claimed)

    async def _claim(self, now: datetime) -> list[dict[str, Any]]:
        async with write_transaction():
            due = (
                MailOutbox.select(MailOutbox.id)
                .where(
                    (MailOutbox.status == "queued")
                    & (MailOutbox.next_attempt_at <= now)
                    & (MailOutbox.locked_until.is_null() | (MailOutbox.locked_until < now))
                )
                .order_by(MailOutbox.id)
                .limit(self.policy.batch)
            )
            if IS_POSTGRES:
                due = due.lock_rows(skip_locked=True)
            ids = [r["id"] for r in await due]
            if not ids:
                return []
            return (
                await MailOutbox.update(
                    {
                        MailOutbox.locked_until: now + self.policy.lease,
                        MailOutbox.attempts: MailOutbox.attempts + 1,
                    }
                )
                .where(MailOutbox.id.is_in(ids))
                .returning(*MailOutbox.all_columns())
            )

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
            invitation = invitations.get(row["invitation"])
            if (
                invitation is None
                or invitation["status"] != "pending"
                or invitation["expires_at"] <= now
            ):
                outcomes[row["id"]] = ENDED
            else:
                sendable.append(row)
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
        """Write down every outcome of a batch in one transaction."""
        now = utcnow()
        sent = [row for row in claimed if outcomes[row["id"]] is None]
        retry, failed = [], []
        for row in claimed:
            error = outcomes[row["id"]]
            if error is None:
                continue
            if error.permanent or row["attempts"] >= self.policy.max_attempts:
                failed.append((row, error.reason))
            else:
                retry.append((row, error.reason))
        by_partner: dict[UUID, list[NewEvent]] = {}
        async with write_transaction():
            if sent:
                await MailOutbox.update(
                    {
                        MailOutbox.status: "sent",
                        MailOutbox.sent_at: now,
                        MailOutbox.locked_until: None,
                    }
                ).where(MailOutbox.id.is_in([row["id"] for row in sent]))
                await Invitation.update(
                    {Invitation.email_status: "sent", Invitation.email_error: None}
                ).where(Invitation.id.is_in([row["invitation"] for row in sent]))
            for row, reason in retry:
                log.info(
                    "mail %s: attempt %s failed, will retry: %s", row["id"], row["attempts"], reason
                )
                await MailOutbox.update(
                    {
                        MailOutbox.next_attempt_at: now + self.policy.backoff(row["attempts"]),
                        MailOutbox.locked_until: None,
                        MailOutbox.last_error: reason,
                    }
                ).where(MailOutbox.id == row["id"])
                await Invitation.update({Invitation.email_error: reason}).where(
                    Invitation.id == row["invitation"]
                )
            for row, reason in failed:
                log.warning("mail %s: not delivered: %s", row["id"], reason)
                await MailOutbox.update(
                    {
                        MailOutbox.status: "failed",
                        MailOutbox.locked_until: None,
                        MailOutbox.last_error: reason,
                    }
                ).where(MailOutbox.id == row["id"])
                await Invitation.update(
                    {Invitation.email_status: "failed", Invitation.email_error: reason}
                ).where(Invitation.id == row["invitation"])
            for row in sent:
                invitation = invitations[row["invitation"]]
                by_partner.setdefault(invitation["partner"], []).append(
                    NewEvent(
                        type="invitation.email_sent",
                        client=invitation["client"],
                        invitation=invitation["id"],
                    )
                )
            for row, reason in failed:
                ended = invitations.get(row["invitation"])
                if ended is not None:
                    by_partner.setdefault(ended["partner"], []).append(
                        NewEvent(
                            type="invitation.email_failed",
                            client=ended["client"],
                            invitation=ended["id"],
                            data={"error": reason},
                        )
                    )
            for partner_id, partner_events in by_partner.items():
                await events.record(partner_id, partner_events, now)
        for partner_id in by_partner:
            self.ctx.bus.publish(partner_id)


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
