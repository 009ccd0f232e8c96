"""A partner's webhook endpoints: create, list, change, delete, rotate the secret, send a
test, and the log of deliveries (with redelivery).

Deliveries of events are queued by the unit of work (`api.services.changes`) and sent by
`api.webhooks.worker`; the ones made here (a test, a redelivery) are queued the same way.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

from api.errors import invalid, not_found
from api.services.access import Member, found, partner_row
from api.services.changes import PartnerChange, partner_change
from api.services.context import Context
from api.services.views import from_row
from api.webhooks import targets
from api.webhooks.secrets import new_secret
from db.tables import WebhookDelivery, WebhookEndpoint
from db.transactions import lock_endpoint, lock_endpoints
from mobile_contract import EventType, models

MAX_ENDPOINTS = 20  # per partner
PREVIOUS_SECRET_SIGNS_FOR = timedelta(hours=24)
RESOLVE_TIMEOUT = 5.0  # seconds for the host of a new URL to resolve
TEST_TYPE = "webhook.test"
MAX_DELIVERY_ID = 2**63 - 1  # a delivery id is a BIGINT: a larger one names none
OUTCOMES = {"queued": "pending", "delivered": "delivered", "failed": "failed"}


def event_types_column(types: list[EventType]) -> str:
    """`event_types` as stored: `,a,b,`, or empty for every type."""
    return "," + ",".join(sorted(set(types))) + "," if types else ""


def view(row: dict[str, Any], secret: str | None = None) -> models.Webhook:
    event_types = [EventType(t) for t in row["event_types"].split(",") if t]
    # `secret` always given: the row's column of that name holds it sealed
    return from_row(models.Webhook, row, event_types=event_types, secret=secret)


def delivery_view(row: dict[str, Any]) -> models.WebhookDelivery:
    outcome = OUTCOMES[row["status"]]
    return from_row(
        models.WebhookDelivery,
        row,
        event_cursor=None if row["event_seq"] is None else str(row["event_seq"]),
        outcome=outcome,
        next_attempt_at=row["next_attempt_at"] if outcome == "pending" else None,
    )


async def check_url(ctx: Context, url: str) -> None:
    """400 validation_failed for a URL webhooks may not be sent to (see api.webhooks.targets)."""
    allow_private = ctx.settings.webhooks_may_reach_private
    try:
        if allow_private:
            targets.check_shape(url, allow_private)
        else:
            async with asyncio.timeout(RESOLVE_TIMEOUT):
                await targets.resolve(url, allow_private)
    except targets.UnsafeTarget as exc:
        raise invalid("url", str(exc)) from None
    except TimeoutError:
        raise invalid("url", "the host did not resolve in time") from None


async def _row(partner_id: UUID, webhook_id: UUID, *, locked: bool = False) -> dict[str, Any]:
    """The partner's endpoint, or 404. `locked`: held against other changes and deletion
    (after the partner row: `lock_endpoint`)."""
    if locked:
        await lock_endpoint(partner_id, webhook_id)
    return await partner_row(WebhookEndpoint, partner_id, webhook_id, "webhook")


async def create(ctx: Context, member: Member, data: models.WebhookCreate) -> models.Webhook:
    await check_url(ctx, data.url)
    webhook_id, secret = uuid4(), new_secret()
    async with partner_change(ctx, member.partner_id) as change:
        await lock_endpoints(member.partner_id)  # two creates count one after the other
        count = await WebhookEndpoint.count().where(WebhookEndpoint.partner == member.partner_id)
        if count >= MAX_ENDPOINTS:
            raise invalid("url", f"a partner has at most {MAX_ENDPOINTS} webhooks")
        await WebhookEndpoint.insert(
            WebhookEndpoint(
                id=webhook_id,
                partner=member.partner_id,
                url=data.url,
                event_types=event_types_column(data.event_types),
                description=data.description,
                status="enabled",
                secret=ctx.webhook_secrets.seal(secret, webhook_id.bytes),
                created_at=change.now,
            )
        )
        change.webhooks_changed()
    return view(await _row(member.partner_id, webhook_id), secret)


async def list_webhooks(ctx: Context, member: Member) -> models.WebhookList:
    rows = (
        await WebhookEndpoint.select()
        .where(WebhookEndpoint.partner == member.partner_id)
        .order_by(WebhookEndpoint.created_at)
    )
    return models.WebhookList(items=[view(r) for r in rows])


async def get(ctx: Context, member: Member, webhook_id: UUID) -> models.Webhook:
    return view(await _row(member.partner_id, webhook_id))


async def update(
    ctx: Context, member: Member, webhook_id: UUID, data: models.WebhookPatch
) -> models.Webhook:
    changes: dict[Any, Any] = {}
    if isinstance(data.url, str):
        await check_url(ctx, data.url)
        changes[WebhookEndpoint.url] = data.url
    if isinstance(data.event_types, list):
        changes[WebhookEndpoint.event_types] = event_types_column(data.event_types)
    if data.description is None or isinstance(data.description, str):
        changes[WebhookEndpoint.description] = data.description
    async with partner_change(ctx, member.partner_id) as change:
        row = await _row(member.partner_id, webhook_id, locked=True)
        if isinstance(data.status, str) and data.status != row["status"]:
            changes[WebhookEndpoint.status] = data.status
            changes[WebhookEndpoint.failing_since] = None
            changes[WebhookEndpoint.disabled_reason] = (
                None if data.status == "enabled" else "disabled by a partner user"
            )
            change.webhooks_changed()
        if changes:
            await WebhookEndpoint.update(changes).where(WebhookEndpoint.id == webhook_id)
    return view(await _row(member.partner_id, webhook_id))


async def delete(ctx: Context, member: Member, webhook_id: UUID) -> None:
    """The endpoint and its delivery log go; nothing more is sent to it."""
    async with partner_change(ctx, member.partner_id) as change:
        await _row(member.partner_id, webhook_id, locked=True)
        await WebhookDelivery.delete().where(WebhookDelivery.endpoint == webhook_id)
        await WebhookEndpoint.delete().where(WebhookEndpoint.id == webhook_id)
        change.webhooks_changed()


async def rotate_secret(ctx: Context, member: Member, webhook_id: UUID) -> models.Webhook:
    """A new secret; the one it replaces keeps signing too for 24 hours."""
    secret = new_secret()
    async with partner_change(ctx, member.partner_id) as change:
        row = await _row(member.partner_id, webhook_id, locked=True)
        await WebhookEndpoint.update(
            {
                WebhookEndpoint.secret: ctx.webhook_secrets.seal(secret, webhook_id.bytes),
                WebhookEndpoint.previous_secret: row["secret"],
                WebhookEndpoint.previous_secret_until: change.now + PREVIOUS_SECRET_SIGNS_FOR,
            }
        ).where(WebhookEndpoint.id == webhook_id)
    return view(await _row(member.partner_id, webhook_id), secret)


async def _queue(
    ctx: Context, change: PartnerChange, webhook_id: UUID, event_seq: int | None, type: str
) -> models.WebhookDelivery:
    [row] = await WebhookDelivery.insert(
        WebhookDelivery(
            endpoint=webhook_id,
            partner=change.partner_id,
            event_seq=event_seq,
            type=type,
            status="queued",
            attempts=0,
            next_attempt_at=change.now,
            created_at=change.now,
        )
    ).returning(*WebhookDelivery.all_columns())
    change.after_commit(ctx.webhooks_queued.set)
    return delivery_view(row)


async def send_test(ctx: Context, member: Member, webhook_id: UUID) -> models.WebhookDelivery:
    """Queue a `webhook.test` delivery to the endpoint."""
    async with partner_change(ctx, member.partner_id) as change:
        await _row(member.partner_id, webhook_id, locked=True)  # held against a delete
        return await _queue(ctx, change, webhook_id, None, TEST_TYPE)


async def deliveries(
    ctx: Context, member: Member, webhook_id: UUID, limit: int, cursor: str | None
) -> models.WebhookDeliveryPage:
    """The endpoint's deliveries, newest first."""
    await _row(member.partner_id, webhook_id)
    where: Any = WebhookDelivery.endpoint == webhook_id
    if cursor:
        if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 18:
            raise invalid("cursor", "not a cursor returned by this endpoint")
        where &= WebhookDelivery.id < int(cursor)
    rows = (
        await WebhookDelivery.select()
        .where(where)
        .order_by(WebhookDelivery.id, ascending=False)
        .limit(limit + 1)
    )
    more = len(rows) > limit
    items = [delivery_view(r) for r in rows[:limit]]
    return models.WebhookDeliveryPage(
        items=items, next_cursor=str(items[-1].id) if more and items else None
    )


async def redeliver(
    ctx: Context, member: Member, webhook_id: UUID, delivery_id: int
) -> models.WebhookDelivery:
    """Queue the delivery's event again, as a new delivery with the same `webhook-id`."""
    if not 0 < delivery_id <= MAX_DELIVERY_ID:
        raise not_found("No such delivery")
    async with partner_change(ctx, member.partner_id) as change:
        await _row(member.partner_id, webhook_id, locked=True)  # held against a delete
        row = await found(
            WebhookDelivery.select(WebhookDelivery.event_seq, WebhookDelivery.type).where(
                (WebhookDelivery.id == delivery_id) & (WebhookDelivery.endpoint == webhook_id)
            ),
            "delivery",
        )
        return await _queue(ctx, change, webhook_id, row["event_seq"], row["type"])
