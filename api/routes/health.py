"""Liveness and readiness."""

from typing import Any

from litestar import get

from api.errors import AppError
from api.routes.params import UNAVAILABLE, documented
from db.piccolo_conf import DB
from mobile_contract import ErrorCode
from mobile_contract.models import Health, Readiness


@get("/healthz", tags=["health"], **documented("healthz"), summary="The process is up", cache=False)
async def healthz() -> Health:
    return Health()


@get(
    "/readyz",
    tags=["health"],
    **documented("readyz", *UNAVAILABLE),
    summary="The database is reachable",
    cache=False,
)
async def readyz() -> Readiness:
    try:
        await DB.run_querystring(_ping())
    except Exception:
        raise AppError(ErrorCode.UNAVAILABLE, "The database is unreachable.") from None
    return Readiness()


def _ping() -> Any:
    from piccolo.querystring import QueryString

    return QueryString("SELECT 1")
