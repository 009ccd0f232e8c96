"""The background work of the service: every loop that is not an HTTP request.

`LOOPS` lists them; adding one is adding a line there. A loop is an async function of a
`Background` that runs until `background.stopping` is set, then returns once the work in
hand is finished or handed back (each claims its work from the database with a lease, so
any number of processes run the same loops side by side). `running()` starts them all:
the app's lifespan does (unless `serve --web-only`), and so does `python -m api worker`.
On stop they get `STOP_GRACE` seconds before they are cancelled; a cancelled claim is
handed back when its lease runs out.

`MEASURES` are what `/metrics` asks the database when it is scraped (the gauges of shared
queues), whichever process answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from concurrent.futures import Executor
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from api.mail.outbox import MailWorker, forget_settled_mail, measure_outbox
from api.metrics import WEBHOOK_PENDING
from api.services import idempotency, reminders
from api.services.context import Context, utcnow
from api.services.grants import CODE_WINDOW
from api.services.invitations import expire_due
from api.webhooks.worker import DeliveryWorker
from db.claims import RetryPolicy
from db.tables import CodeBudget, QRGrant, WebhookDelivery

log = logging.getLogger("api.background")
STOP_GRACE = 25.0  # seconds: a SIGTERM'd process exits within 30 s
PRUNE_SECONDS = 3600.0  # how often old rows are deleted


class Background:
    """What the loops of one process share."""

    def __init__(self, ctx: Context, renderer: Executor | None) -> None:
        self.ctx = ctx
        self.renderer = renderer  # the render processes (None: this thread)
        self.stopping = asyncio.Event()

    async def every(self, seconds: float, job: Callable[[], Awaitable[object]]) -> None:
        """Run `job` now and then every `seconds` until stopping; a failure is logged."""
        while not self.stopping.is_set():
            try:
                await job()
            except Exception as exc:
                log.warning("background job failed: %s: %s", type(exc).__name__, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), seconds)


async def mail_outbox(bg: Background) -> None:
    settings = bg.ctx.settings
    policy = RetryPolicy(
        max_attempts=settings.mail_max_attempts,
        retry_base=timedelta(seconds=settings.mail_retry_base_seconds),
        lease=timedelta(seconds=settings.mail_lease_seconds),
    )
    await MailWorker(bg.ctx, settings.mail_url, bg.renderer, policy).run(bg.stopping)


async def sweep(bg: Background) -> None:
    """What the clock changes: invitations past their expiry, reminders that fall due."""

    async def once() -> None:
        await expire_due(bg.ctx)
        await reminders.queue_due(bg.ctx)

    await bg.every(bg.ctx.settings.sweep_seconds, once)


async def mail_retention(bg: Background) -> None:
    keep = timedelta(days=bg.ctx.settings.mail_keep_days)
    await bg.every(PRUNE_SECONDS, lambda: forget_settled_mail(keep))


async def short_lived_rows(bg: Background) -> None:
    """Delete QR grants a day after they expired, typed-code budgets past their window and
    Idempotency-Keys past their 24 hours."""

    async def prune() -> None:
        now = utcnow()
        await QRGrant.delete().where(QRGrant.expires_at < now - timedelta(days=1))
        await CodeBudget.delete().where(CodeBudget.window_start < now - CODE_WINDOW)
        await idempotency.forget_expired()

    await bg.every(PRUNE_SECONDS, prune)


async def webhook_deliveries(bg: Background) -> None:
    await DeliveryWorker(bg.ctx).run(bg.stopping)


async def measure_webhooks() -> None:
    """Webhook deliveries still to be made (queued, or waiting for a retry)."""
    WEBHOOK_PENDING.set(await WebhookDelivery.count().where(WebhookDelivery.status == "queued"))


Loop = Callable[[Background], Coroutine[Any, Any, None]]
LOOPS: tuple[Loop, ...] = (
    mail_outbox,
    webhook_deliveries,
    sweep,
    mail_retention,
    short_lived_rows,
)
MEASURES: tuple[Callable[[], Awaitable[None]], ...] = (measure_outbox, measure_webhooks)


async def measure() -> None:
    """Refresh the gauges of shared queues from the database (skipped while it is away)."""
    for job in MEASURES:
        try:
            await job()
        except Exception as exc:
            log.warning("metrics: %s: %s", type(exc).__name__, exc)


@asynccontextmanager
async def running(ctx: Context, renderer: Executor | None) -> AsyncIterator[Background]:
    """Every loop of `LOOPS`, from entry until exit (then stopped as described above)."""
    bg = Background(ctx, renderer)
    tasks = [asyncio.create_task(loop(bg), name=loop.__name__) for loop in LOOPS]
    try:
        yield bg
    finally:
        bg.stopping.set()
        ctx.mail_queued.set()  # wakes idle queues at once
        ctx.webhooks_queued.set()
        _, stuck = await asyncio.wait(tasks, timeout=STOP_GRACE)
        for task in stuck:
            log.warning("background loop %s did not stop in time; cancelled", task.get_name())
            task.cancel()
        if stuck:
            await asyncio.wait(stuck, timeout=1.0)
        for task in tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                log.error("background loop %s failed", task.get_name(), exc_info=task.exception())
