"""The landing page of a universal link, for browsers (the app opens the link itself)."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from api.errors import AppError
from api.languages import preferred_language
from api.routes.params import PAGE_ERRORS, UNAVAILABLE, Ctx, E, PathStr, documented
from api.services import landing
from api.templates import ENV
from mobile_contract import STATUS, links
from mobile_contract.models import LandingStatus

PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


class LandingController(Controller):
    path = "/i/{token:str}"
    tags = ["public"]

    @get(
        "/", **documented("getLandingPage", *UNAVAILABLE, more=PAGE_ERRORS), media_type="text/html"
    )
    async def page(
        self, ctx: Ctx, request: Request[Any, Any, Any], token: PathStr
    ) -> Response[str]:
        """Landing page of an invitation or registration link (HTML).

        A 4xx page for an invalid, expired, revoked, superseded, declined or accepted token. A GET
        never changes anything."""
        status = 200
        context: dict[str, Any] = {"page": None, "error": None}
        fallback = None
        try:
            page = await landing.landing(ctx, token)
        except AppError as exc:
            context["error"] = landing.ERROR_PAGES.get(exc.code)
            if context["error"] is None:
                raise
            status = STATUS[exc.code]
        else:
            fallback = page.language
            context |= {
                "page": page,
                "app_url": links.app_link(ctx.settings.app_scheme, token),
                "qr_url": f"/i/{token}/qr.svg",
                "status_url": f"/i/{token}/status",
            }
        lang = preferred_language(request.headers.get("accept-language"), fallback)
        html = ENV.get_template("landing.html.j2").render(context | {"lang": lang})
        return Response(
            content=html,
            status_code=status,
            media_type="text/html",
            headers=PAGE_HEADERS | {"Content-Language": lang},
        )

    @get("/status", **documented("getLandingPageStatus", E.TOKEN_INVALID, *UNAVAILABLE))
    async def status(self, ctx: Ctx, token: PathStr) -> Response[LandingStatus]:
        """State of the link's invitation, for the landing page's script."""
        return Response(
            content=LandingStatus(status=await landing.status(ctx, token)), headers=PAGE_HEADERS
        )
