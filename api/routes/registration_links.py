"""Partner routes for registration links: create, list, revoke, print a poster."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Response, get, post
from litestar.params import JSONBody, QueryParameter

from api.qr import QRRenderer, svg_symbol
from api.routes.idempotency import Idempotent
from api.routes.params import (
    IN_PARTNER,
    INVALID,
    AnyRequest,
    Ctx,
    E,
    Member,
    PathId,
    action,
    documented,
    with_etag,
)
from api.services import registration_links
from api.templates import render_poster
from mobile_contract import models

POSTER_QR_MM = 150


class RegistrationLinksController(Controller):
    path = "/partners/{partner_id:uuid}/registration-links"
    tags = ["registration links"]

    @post(
        "/",
        **documented("createRegistrationLink", *IN_PARTNER, *INVALID, E.IDEMPOTENCY_CONFLICT),
    )
    async def create(
        self,
        ctx: Ctx,
        member: Member,
        data: JSONBody[models.RegistrationLinkCreate],
        once: Idempotent,
    ) -> Response[models.RegistrationLink]:
        """Create a reusable registration link.

        A business not yet linked to the partner that confirms it in the app is linked at
        `access_level` (default `full`) and becomes a client (`source: registration_link`),
        counting a use; one already linked gets its link back. The link stops working when
        revoked, at `expires_at` (a time with its zone, in the future) or after `max_uses`
        uses; without them, until revoked (its token is good for ten years)."""
        return await once(
            data, models.RegistrationLink, lambda: registration_links.create(ctx, member, data)
        )

    @get("/", **with_etag("listRegistrationLinks", *IN_PARTNER))
    async def list_links(self, ctx: Ctx, member: Member) -> models.RegistrationLinkList:
        """The partner's registration links, newest first, with their uses.

        Revoked, expired and used-up links too. Answers an `ETag` (304 with
        `If-None-Match`)."""
        return await registration_links.list_links(ctx, member)

    @get("/{link_id:uuid}", **with_etag("getRegistrationLink", *IN_PARTNER))
    async def get_link(self, ctx: Ctx, member: Member, link_id: PathId) -> models.RegistrationLink:
        """One registration link."""
        return await registration_links.get(ctx, member, link_id)

    @action("/{link_id:uuid}/revoke", "revokeRegistrationLink", *IN_PARTNER)
    async def revoke(self, ctx: Ctx, member: Member, link_id: PathId) -> models.RegistrationLink:
        """Stop a registration link from working."""
        return await registration_links.revoke(ctx, member, link_id)

    @get(
        "/{link_id:uuid}/poster.svg",
        **documented("getRegistrationLinkPoster", *IN_PARTNER, *INVALID),
        media_type="image/svg+xml",
    )
    async def poster(
        self,
        ctx: Ctx,
        member: Member,
        request: AnyRequest,
        link_id: PathId,
        lang: Annotated[Literal["en", "nl", "fr", "de"], QueryParameter()] = "en",
    ) -> Response[str]:
        """A printable A4 poster (SVG): the partner's name, a large QR code, instructions."""
        poster = await registration_links.poster(ctx, member, link_id)
        renderer: QRRenderer = request.app.state.qr
        modules, path = svg_symbol(await renderer.image(poster.url, "svg", 1))
        svg = render_poster(
            lang, {"poster": poster, "modules": modules, "path": path, "qr_mm": POSTER_QR_MM}
        )
        return Response(
            content=svg,
            media_type="image/svg+xml",
            headers={
                "Cache-Control": "private, no-cache",
                "Content-Disposition": f'inline; filename="registration-link-{link_id}.svg"',
            },
        )
