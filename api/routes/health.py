"""Liveness and readiness."""

from typing import Any

from litestar import get

from api.errors import AppError
from db.piccolo_conf import DB
from mobile_contract import ErrorCode


@get("/healthz", tags=["health"], summary="The process is up", cache=False)
async def healthz() -> dict[str, Any]:
    return {"status": "ok"}


@get("/readyz", tags=["health"], summary="The database is reachable", cache=False)
async def readyz() -> dict[str, Any]:
    try:
        await DB.run_querystring(_ping())
    except Exception:
        raise AppError(ErrorCode.UNAVAILABLE, "The database is unreachable.") from None
    return {"status": "ready"}


def _ping() -> Any:
    from piccolo.querystring import QueryString

    return QueryString("SELECT 1")
