"""Public routes (no sign-in): QR images of links, the invitation-token JWKS, app links."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import QueryParameter

from api.errors import AppError
from api.qr import QRRenderer
from api.routes.params import PUBLIC_PROBLEMS, Ctx, PathStr
from api.services import grants
from api.services.context import utcnow
from mobile_contract import ErrorCode, links

MAX_IMAGE_AGE = 24 * 3600


def _cache_headers(expires_at: datetime | None, now: datetime) -> dict[str, str]:
    remaining = MAX_IMAGE_AGE if expires_at is None else int((expires_at - now).total_seconds())
    return {"Cache-Control": f"private, max-age={max(0, min(remaining, MAX_IMAGE_AGE))}"}


class QRImageController(Controller):
    path = "/i/{token:str}"
    tags = ["public"]

    async def _image(
        self, ctx: Ctx, request: Request[Any, Any, Any], token: str, kind: str, scale: int
    ) -> Response[bytes]:
        now = utcnow()
        expires_at = await grants.usable_until(ctx, token, now)
        renderer: QRRenderer = request.app.state.qr
        url = links.universal_link(ctx.settings.public_base_url, token)
        image = await renderer.image(url, kind, scale)  # type: ignore[arg-type]
        media_type = "image/png" if kind == "png" else "image/svg+xml"
        headers = _cache_headers(expires_at, now) | {"Referrer-Policy": "no-referrer"}
        return Response(content=image, media_type=media_type, headers=headers)

    @get(
        "/qr.png",
        responses=PUBLIC_PROBLEMS,
        summary="QR code (PNG) of the universal link; valid tokens only",
    )
    async def png(
        self,
        ctx: Ctx,
        request: Request[Any, Any, Any],
        token: PathStr,
        scale: Annotated[int, QueryParameter(ge=1, le=20)] = 8,
    ) -> Response[bytes]:
        return await self._image(ctx, request, token, "png", scale)

    @get(
        "/qr.svg",
        responses=PUBLIC_PROBLEMS,
        summary="QR code (SVG) of the universal link; valid tokens only",
    )
    async def svg(
        self,
        ctx: Ctx,
        request: Request[Any, Any, Any],
        token: PathStr,
        scale: Annotated[int, QueryParameter(ge=1, le=20)] = 8,
    ) -> Response[bytes]:
        return await self._image(ctx, request, token, "svg", scale)


class WellKnownController(Controller):
    path = "/.well-known"
    tags = ["public"]

    @get("/jwks.json", responses=PUBLIC_PROBLEMS, summary="Public keys of invitation tokens")
    async def jwks(self, ctx: Ctx) -> Response[dict[str, Any]]:
        return Response(content=ctx.keys.jwks(), headers={"Cache-Control": "public, max-age=300"})

    @get(
        "/apple-app-site-association",
        responses=PUBLIC_PROBLEMS,
        summary="iOS universal links (404 when not configured)",
    )
    async def apple(self, ctx: Ctx) -> Response[dict[str, Any]]:
        app_ids = list(ctx.settings.apple_app_ids)
        if not app_ids:
            raise AppError(ErrorCode.NOT_FOUND, "Universal links are not configured")
        body = {
            "applinks": {"details": [{"appIDs": app_ids, "components": [{"/": "/i/*"}]}]},
        }
        return Response(content=body, media_type="application/json")

    @get(
        "/assetlinks.json",
        responses=PUBLIC_PROBLEMS,
        summary="Android app links (404 when not configured)",
    )
    async def android(self, ctx: Ctx) -> Response[list[dict[str, Any]]]:
        settings = ctx.settings
        if not settings.android_package or not settings.android_cert_sha256:
            raise AppError(ErrorCode.NOT_FOUND, "App links are not configured")
        body = [
            {
                "relation": ["delegate_permission/common.handle_all_urls"],
                "target": {
                    "namespace": "android_app",
                    "package_name": settings.android_package,
                    "sha256_cert_fingerprints": list(settings.android_cert_sha256),
                },
            }
        ]
        return Response(content=body, media_type="application/json")
