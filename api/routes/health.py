"""Liveness, readiness and the Prometheus metrics."""

from typing import Any

from litestar import Request, Response, get

from api import access_log, background, metrics
from api.errors import AppError
from api.listener import listener_down_for
from api.routes.params import UNAVAILABLE, Ctx, documented
from db import sql, statements
from mobile_contract import ErrorCode
from mobile_contract.models import Health, Readiness

LISTENER_GRACE = 5.0  # seconds the change listener may be away before readyz says 503


@get("/healthz", tags=["health"], **documented("healthz"), cache=False)
async def healthz() -> Health:
    """The process is up."""
    return Health()


@get("/readyz", tags=["health"], **documented("readyz", *UNAVAILABLE), cache=False)
async def readyz() -> Readiness:
    """The database is reachable.

    503 while the database is unreachable or, on PostgreSQL, this process's change
    listener has been down for more than 5 seconds."""
    try:
        await sql.execute(statements.PING)
    except Exception:
        raise AppError(ErrorCode.UNAVAILABLE, "The database is unreachable.") from None
    if listener_down_for() > LISTENER_GRACE:
        raise AppError(ErrorCode.UNAVAILABLE, "The change listener is disconnected.")
    return Readiness()


@get("/metrics", include_in_schema=False, cache=False)
async def metrics_text(request: Request[Any, Any, Any], ctx: Ctx) -> Response[bytes]:
    """Prometheus text of every worker process of this `serve` (not JSON, so not in the
    OpenAPI schema); see api.metrics for the token rule."""
    status = metrics.metrics_access(ctx.settings, request.headers.get("authorization"))
    if status == 401:
        raise AppError(ErrorCode.UNAUTHENTICATED, "The metrics token is missing or wrong.")
    if status == 404:
        raise AppError(ErrorCode.NOT_FOUND)
    await background.measure()
    access_log.settle()  # this process's requests counted up to now
    # As a header: Litestar would add a second charset to a text/ media type.
    return Response(metrics.exposition(), headers={"Content-Type": metrics.CONTENT_TYPE})
