"""Public routes (no sign-in): QR images of links, the invitation-token JWKS, app links."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get
from litestar.params import QueryParameter

from api.errors import AppError
from api.qr import ImageKind, QRRenderer
from api.routes.params import (
    GRANT,
    INVALID,
    UNAVAILABLE,
    AnyRequest,
    Ctx,
    E,
    PathStr,
    documented,
)
from api.services import grants
from api.services.context import Context, utcnow
from mobile_contract import ErrorCode, links, models

MAX_IMAGE_AGE = 24 * 3600
_MEDIA_TYPES: dict[ImageKind, str] = {"png": "image/png", "svg": "image/svg+xml"}


def _cache_headers(expires_at: datetime | None, now: datetime) -> dict[str, str]:
    remaining = MAX_IMAGE_AGE if expires_at is None else int((expires_at - now).total_seconds())
    return {"Cache-Control": f"private, max-age={max(0, min(remaining, MAX_IMAGE_AGE))}"}


def _image_response(image: bytes, kind: ImageKind, expires_at: datetime | None) -> Response[bytes]:
    headers = _cache_headers(expires_at, utcnow()) | {"Referrer-Policy": "no-referrer"}
    return Response(content=image, media_type=_MEDIA_TYPES[kind], headers=headers)


async def _image_from_memory(request: AnyRequest) -> Response[bytes] | None:
    """`before_request` of the QR images: a token known to be usable, at the default scale,
    whose image is cached, is answered before parameters and dependencies are parsed
    (mail clients and pages fetch the same images again and again)."""
    if request.scope["query_string"]:
        return None
    ctx: Context = request.app.state.ctx
    token: str = request.path_params["token"]
    expires_at = ctx.token_states.get(token)
    if expires_at is None:
        return None
    kind: ImageKind = "png" if request.scope["path"].endswith(".png") else "svg"
    renderer: QRRenderer = request.app.state.qr
    image = renderer.cached(links.universal_link(ctx.settings.public_base_url, token), kind)
    return None if image is None else _image_response(image, kind, expires_at)


ImageScale = Annotated[int, QueryParameter(ge=1, le=20)]


def _qr_image_route(kind: ImageKind) -> dict[str, Any]:
    """Route options of the QR image of a link in `kind`: PNG or SVG, the same otherwise."""
    return {
        **documented(f"getInvitationQr{kind.title()}", *GRANT, *INVALID, *UNAVAILABLE),
        "media_type": _MEDIA_TYPES[kind],
        "summary": f"QR code ({kind.upper()}) of the universal link; valid tokens only",
        "before_request": _image_from_memory,
    }


class QRImageController(Controller):
    path = "/i/{token:str}"
    tags = ["public"]

    async def _image(
        self, ctx: Ctx, request: AnyRequest, token: str, kind: ImageKind, scale: int
    ) -> Response[bytes]:
        expires_at = await grants.usable_until(ctx, token, utcnow())
        renderer: QRRenderer = request.app.state.qr
        url = links.universal_link(ctx.settings.public_base_url, token)
        return _image_response(await renderer.image(url, kind, scale), kind, expires_at)

    @get("/qr.png", **_qr_image_route("png"))
    async def png(
        self, ctx: Ctx, request: AnyRequest, token: PathStr, scale: ImageScale = 8
    ) -> Response[bytes]:
        return await self._image(ctx, request, token, "png", scale)

    @get("/qr.svg", **_qr_image_route("svg"))
    async def svg(
        self, ctx: Ctx, request: AnyRequest, token: PathStr, scale: ImageScale = 8
    ) -> Response[bytes]:
        return await self._image(ctx, request, token, "svg", scale)


class WellKnownController(Controller):
    path = "/.well-known"
    tags = ["public"]

    @get("/jwks.json", **documented("getJwks"), summary="Public keys of invitation tokens")
    async def jwks(self, ctx: Ctx) -> Response[models.JWKS]:
        return Response(
            content=msgspec.convert(ctx.keys.jwks(), models.JWKS),
            headers={"Cache-Control": "public, max-age=300"},
        )

    @get(
        "/apple-app-site-association",
        **documented("getAppleAppSiteAssociation", E.NOT_FOUND),
        summary="iOS universal links (404 when not configured)",
    )
    async def apple(self, ctx: Ctx) -> Response[models.AppleAppSiteAssociation]:
        app_ids = list(ctx.settings.apple_app_ids)
        if not app_ids:
            raise AppError(ErrorCode.NOT_FOUND, "Universal links are not configured")
        body = models.AppleAppSiteAssociation(
            applinks=models.AppleAppLinks(
                details=[{"appIDs": app_ids, "components": [{"/": "/i/*"}]}]
            )
        )
        return Response(content=body, media_type="application/json")

    @get(
        "/assetlinks.json",
        **documented("getAndroidAssetLinks", E.NOT_FOUND),
        summary="Android app links (404 when not configured)",
    )
    async def android(self, ctx: Ctx) -> Response[list[models.AndroidAssetLink]]:
        settings = ctx.settings
        if not settings.android_package or not settings.android_cert_sha256:
            raise AppError(ErrorCode.NOT_FOUND, "App links are not configured")
        body = [
            models.AndroidAssetLink(
                relation=["delegate_permission/common.handle_all_urls"],
                target=models.AndroidAssetLinkTarget(
                    namespace="android_app",
                    package_name=settings.android_package,
                    sha256_cert_fingerprints=list(settings.android_cert_sha256),
                ),
            )
        ]
        return Response(content=body, media_type="application/json")
