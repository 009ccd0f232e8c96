"""Public routes (no sign-in): QR images of links, the invitation-token JWKS, app links."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get
from litestar.params import QueryParameter
from litestar.types import Scope

from api.errors import AppError
from api.qr import ImageKind, QRRenderer
from api.routes.memory import Answer, answered_from_memory, encoded
from api.routes.params import GRANT, INVALID, UNAVAILABLE, AnyRequest, Ctx, E, PathStr, documented
from api.services import grants
from api.services.context import Context, utcnow
from mobile_contract import ErrorCode, links, models

MAX_IMAGE_AGE = 24 * 3600
_MEDIA_TYPES: dict[ImageKind, str] = {"png": "image/png", "svg": "image/svg+xml"}


def _image_headers(expires_at: datetime | None) -> dict[str, str]:
    """A QR image's headers: cached by the browser while the token lasts (at most a day)."""
    remaining = MAX_IMAGE_AGE
    if expires_at is not None:
        remaining = int((expires_at - utcnow()).total_seconds())
    return {
        "Cache-Control": f"private, max-age={max(0, min(remaining, MAX_IMAGE_AGE))}",
        "Referrer-Policy": "no-referrer",
    }


def _image_response(image: bytes, kind: ImageKind, expires_at: datetime | None) -> Response[bytes]:
    return Response(
        content=image, media_type=_MEDIA_TYPES[kind], headers=_image_headers(expires_at)
    )


def _image_in_memory(ctx: Context, scope: Scope) -> Answer | None:
    """For `answered_from_memory` on the QR images: a token known to be usable, at the
    default scale, whose image is cached (mail clients and pages fetch the same images
    again and again)."""
    if scope["query_string"]:
        return None
    token: str = scope["path_params"]["token"]
    expires_at = ctx.token_states.get(token)
    if expires_at is None:
        return None
    kind: ImageKind = "png" if scope["path"].endswith(".png") else "svg"
    renderer: QRRenderer = scope["litestar_app"].state.qr
    image = renderer.cached(links.universal_link(ctx.settings.public_base_url, token), kind)
    if image is None:
        return None
    entity = {"Content-Type": _MEDIA_TYPES[kind], "Content-Length": str(len(image))}
    return Answer(200, encoded(_image_headers(expires_at) | entity), image)


ImageScale = Annotated[int, QueryParameter(ge=1, le=20)]


def _qr_image_route(kind: ImageKind) -> dict[str, Any]:
    """Route options of the QR image of a link in `kind`: PNG or SVG, the same otherwise."""
    return {
        **documented(f"getInvitationQr{kind.title()}", *GRANT, *INVALID, *UNAVAILABLE),
        "media_type": _MEDIA_TYPES[kind],
        "middleware": [answered_from_memory(_image_in_memory)],
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
        """QR code (PNG) of the universal link; valid tokens only."""
        return await self._image(ctx, request, token, "png", scale)

    @get("/qr.svg", **_qr_image_route("svg"))
    async def svg(
        self, ctx: Ctx, request: AnyRequest, token: PathStr, scale: ImageScale = 8
    ) -> Response[bytes]:
        """QR code (SVG) of the universal link; valid tokens only."""
        return await self._image(ctx, request, token, "svg", scale)


class WellKnownController(Controller):
    path = "/.well-known"
    tags = ["public"]

    @get("/jwks.json", **documented("getJwks"))
    async def jwks(self, ctx: Ctx) -> Response[models.JWKS]:
        """Public keys of invitation tokens."""
        return Response(
            content=msgspec.convert(ctx.keys.jwks(), models.JWKS),
            headers={"Cache-Control": "public, max-age=300"},
        )

    @get("/apple-app-site-association", **documented("getAppleAppSiteAssociation", E.NOT_FOUND))
    async def apple(self, ctx: Ctx) -> Response[models.AppleAppSiteAssociation]:
        """iOS universal links (404 when not configured)."""
        app_ids = list(ctx.settings.apple_app_ids)
        if not app_ids:
            raise AppError(ErrorCode.NOT_FOUND, "Universal links are not configured")
        body = models.AppleAppSiteAssociation(
            applinks=models.AppleAppLinks(
                details=[{"appIDs": app_ids, "components": [{"/": "/i/*"}]}]
            )
        )
        return Response(content=body, media_type="application/json")

    @get("/assetlinks.json", **documented("getAndroidAssetLinks", E.NOT_FOUND))
    async def android(self, ctx: Ctx) -> Response[list[models.AndroidAssetLink]]:
        """Android app links (404 when not configured)."""
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
