"""Partner routes for webhooks to the partner's own systems (Standard Webhooks)."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from api.routes.params import IN_PARTNER, INVALID, Ctx, Member, PathId, action, documented
from api.services import webhooks
from mobile_contract import models


class WebhooksController(Controller):
    path = "/partners/{partner_id:uuid}/webhooks"
    tags = ["webhooks"]

    @post("/", **documented("createWebhook", *IN_PARTNER, *INVALID))
    async def create(
        self, ctx: Ctx, member: Member, data: JSONBody[models.WebhookCreate]
    ) -> models.Webhook:
        """Add an endpoint that receives the partner's events, signed.

        The answer carries the endpoint's `secret` (shown only here and by rotate-secret).
        `event_types` absent or empty: every type."""
        return await webhooks.create(ctx, member, data)

    @get("/", **documented("listWebhooks", *IN_PARTNER))
    async def list_webhooks(self, ctx: Ctx, member: Member) -> models.WebhookList:
        """The partner's endpoints, oldest first.

        Without their `secret`, which only create and rotate-secret show."""
        return await webhooks.list_webhooks(ctx, member)

    @get("/{webhook_id:uuid}", **documented("getWebhook", *IN_PARTNER))
    async def get_webhook(self, ctx: Ctx, member: Member, webhook_id: PathId) -> models.Webhook:
        """One endpoint, without its `secret`.

        A `disabled` endpoint says why in `disabled_reason`: a partner user disabled it, its
        receiver answered 410, or every delivery failed for `WEBHOOK_DISABLE_AFTER_HOURS`."""
        return await webhooks.get(ctx, member, webhook_id)

    @patch("/{webhook_id:uuid}", **documented("updateWebhook", *IN_PARTNER, *INVALID))
    async def update(
        self, ctx: Ctx, member: Member, webhook_id: PathId, data: JSONBody[models.WebhookPatch]
    ) -> models.Webhook:
        """Change an endpoint's URL, event types, description or status.

        An absent field keeps its value; a new `url` is checked as at creation. While an
        endpoint is disabled its events are not queued for it and nothing is sent to it
        (a delivery tried meanwhile, a test or a redelivery too, fails); `status: enabled`
        sends the events from then on (redeliver one to have it again)."""
        return await webhooks.update(ctx, member, webhook_id, data)

    @delete("/{webhook_id:uuid}", **documented("deleteWebhook", *IN_PARTNER))
    async def delete_webhook(self, ctx: Ctx, member: Member, webhook_id: PathId) -> None:
        """Remove an endpoint and its delivery log; nothing more is sent to it."""
        await webhooks.delete(ctx, member, webhook_id)

    @action("/{webhook_id:uuid}/rotate-secret", "rotateWebhookSecret", *IN_PARTNER)
    async def rotate_secret(self, ctx: Ctx, member: Member, webhook_id: PathId) -> models.Webhook:
        """A new secret; for 24 hours deliveries are signed by the old one too."""
        return await webhooks.rotate_secret(ctx, member, webhook_id)

    @post("/{webhook_id:uuid}/test", **documented("testWebhook", *IN_PARTNER), status_code=202)
    async def test(self, ctx: Ctx, member: Member, webhook_id: PathId) -> models.WebhookDelivery:
        """Queue a `webhook.test` delivery to the endpoint."""
        return await webhooks.send_test(ctx, member, webhook_id)

    @get(
        "/{webhook_id:uuid}/deliveries",
        **documented("listWebhookDeliveries", *IN_PARTNER, *INVALID),
    )
    async def deliveries(
        self,
        ctx: Ctx,
        member: Member,
        webhook_id: PathId,
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> models.WebhookDeliveryPage:
        """The endpoint's deliveries, newest first.

        `next_cursor` (null on the last page) is the `cursor` of the next call."""
        return await webhooks.deliveries(ctx, member, webhook_id, limit, cursor)

    @post(
        "/{webhook_id:uuid}/deliveries/{delivery_id:int}/redeliver",
        **documented("redeliverWebhookDelivery", *IN_PARTNER),
        status_code=202,
    )
    async def redeliver(
        self, ctx: Ctx, member: Member, webhook_id: PathId, delivery_id: FromPath[int]
    ) -> models.WebhookDelivery:
        """Queue a delivery's event again (same `webhook-id`)."""
        return await webhooks.redeliver(ctx, member, webhook_id, delivery_id)
