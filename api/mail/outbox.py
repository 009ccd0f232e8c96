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
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import msgspec

from api.mail.compose import Invite, compose
from api.mail.transport import DeliveryError, Transport
from api.qr import QRRenderer
from api.services import events
from api.services.context import Context, utcnow
from api.services.events import NewEvent
from db.tables import Client, Invitation, MailOutbox, Partner
from db.transactions import IS_POSTGRES, one, write_transaction

log = logging.getLogger("api.mail")
QR_SCALE = 4


class MailPolicy(msgspec.Struct, frozen=True, kw_only=True):
    batch: int = 20
    lease: timedelta = timedelta(seconds=120)
    max_attempts: int = 8
    retry_base: timedelta = timedelta(seconds=10)
    retry_cap: timedelta = timedelta(hours=1)
    idle_poll: float = 1.0

    def backoff(self, attempts: int) -> timedelta:
        return min(self.retry_cap, self.retry_base * 2 ** max(0, attempts - 1))


class MailWorker:
    def __init__(
        self, ctx: Context, transport: Transport, renderer: QRRenderer, policy: MailPolicy
    ) -> None:
        self.ctx = ctx
        self.transport = transport
        self.renderer = renderer
        self.policy = policy
        self._domain = urlsplit(ctx.settings.public_base_url).hostname or "localhost"

    async def run(self) -> None:
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
            await asyncio.gather(*(self._deliver(row) for row in claimed))
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

    async def _deliver(self, row: dict[str, Any]) -> None:
        invitation = await Invitation.select().where(Invitation.id == row["invitation"]).first()
        now = utcnow()
        if (
            invitation is None
            or invitation["status"] != "pending"
            or invitation["expires_at"] <= now
        ):
            await self._finish(
                row, invitation, error="not sent: the invitation ended before its email went out"
            )
            return
        try:
            message = await self._compose(invitation, replaces_earlier=row["kind"] == "resend")
            await self.transport.send(message)
        except Exception as exc:
            if not isinstance(exc, DeliveryError):  # a bug: keep the message, say why
                log.exception("mail %s: cannot compose or send", row["id"])
                exc = DeliveryError(f"internal error: {type(exc).__name__}", permanent=False)
            if exc.permanent or row["attempts"] >= self.policy.max_attempts:
                await self._finish(row, invitation, error=exc.reason)
            else:
                await self._retry(row, invitation, exc.reason)
            return
        await self._finish(row, invitation, error=None)

    async def _compose(self, invitation: dict[str, Any], *, replaces_earlier: bool) -> Any:
        client = await one(Client.select(Client.name).where(Client.id == invitation["client"]))
        partner = await one(Partner.select(Partner.name).where(Partner.id == invitation["partner"]))
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
            client_name=client["name"],
            partner_name=partner["name"],
            language=invitation["language"],
            message=invitation["message"],
            access_level=invitation["access_level"],
            url=urls["url"],
            app_url=urls["app_url"],
            expires_at=invitation["expires_at"],
            replaces_earlier=replaces_earlier,
        )
        png = await self.renderer.image(urls["url"], "png", QR_SCALE)
        return compose(invite, png, self.ctx.settings.mail_from, self._domain)

    async def _retry(self, row: dict[str, Any], invitation: dict[str, Any], reason: str) -> None:
        now = utcnow()
        log.info("mail %s: attempt %s failed, retrying: %s", row["id"], row["attempts"], reason)
        async with write_transaction():
            await MailOutbox.update(
                {
                    MailOutbox.next_attempt_at: now + self.policy.backoff(row["attempts"]),
                    MailOutbox.locked_until: None,
                    MailOutbox.last_error: reason,
                }
            ).where(MailOutbox.id == row["id"])
            await Invitation.update({Invitation.email_error: reason}).where(
                Invitation.id == invitation["id"]
            )

    async def _finish(
        self, row: dict[str, Any], invitation: dict[str, Any] | None, error: str | None
    ) -> None:
        now = utcnow()
        async with write_transaction():
            await MailOutbox.update(
                {
                    MailOutbox.status: "failed" if error else "sent",
                    MailOutbox.sent_at: None if error else now,
                    MailOutbox.locked_until: None,
                    MailOutbox.last_error: error,
                }
            ).where(MailOutbox.id == row["id"])
            if invitation is None:
                return
            await Invitation.update(
                {
                    Invitation.email_status: "failed" if error else "sent",
                    Invitation.email_error: error,
                }
            ).where(Invitation.id == invitation["id"])
            await events.record(
                invitation["partner"],
                [
                    NewEvent(
                        type="invitation.email_failed" if error else "invitation.email_sent",
                        client=invitation["client"],
                        invitation=invitation["id"],
                        data={"error": error} if error else {},
                    )
                ],
                now,
            )
        if error:
            log.warning("mail %s: not delivered: %s", row["id"], error)
        self.ctx.bus.publish(invitation["partner"])
