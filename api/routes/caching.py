"""ETag / If-None-Match for the GETs that dashboards poll."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Hashable
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response
from litestar.types import Scope

from api.auth import header
from api.routes.memory import Answer, encoded
from api.services.context import Context
from api.services.revisions import Versioned
from mobile_contract.models import User


def etag_response(request: Request[Any, Any, Any], body: msgspec.Struct) -> Response[bytes]:
    """`body` as JSON with a strong ETag, or an empty 304 when the client already has it."""
    return _respond(request, *_encode(body))


async def remembered_etag_response(
    request: Request[Any, Any, Any],
    user: User,
    partner_id: UUID,
    compute: Callable[[], Awaitable[Versioned]],
) -> Response[bytes]:
    """`etag_response` of what `compute` returns, remembering its ETag for
    `not_modified_in_memory` while the answer stays true (see api.services.revisions)."""
    answer = await compute()
    content, etag = _encode(answer.body)
    ctx: Context = request.app.state.ctx
    ctx.list_etags.put(
        _key(request.scope, user.sub), partner_id, answer.revision, etag, answer.valid_until
    )
    return _respond(request, content, etag)


def not_modified_in_memory(ctx: Context, scope: Scope) -> Answer | None:
    """For `answered_from_memory` on a route answered by `remembered_etag_response`: a 304
    for a matching If-None-Match from a signed-in user, straight from memory. Anything else
    (None) goes the usual way."""
    if_none_match = header(scope, b"if-none-match")
    if not if_none_match:
        return None
    user = ctx.verifier.remembered_caller(scope)
    if user is None:
        return None
    etag = ctx.list_etags.get(_key(scope, user.sub))
    if etag is None or not _matches(if_none_match, etag):
        return None
    return Answer(304, encoded(_headers(etag)), b"")


def _key(scope: Scope, user_sub: str) -> Hashable:
    """One answer per path (it names the partner), user and query string."""
    return (scope["path"], user_sub, scope["query_string"])


def _encode(body: msgspec.Struct) -> tuple[bytes, str]:
    content = msgspec.json.encode(body)
    return content, '"' + hashlib.blake2b(content, digest_size=12).hexdigest() + '"'


def _respond(request: Request[Any, Any, Any], content: bytes, etag: str) -> Response[bytes]:
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(content=b"", status_code=304, headers=_headers(etag))
    return Response(content=content, media_type="application/json", headers=_headers(etag))


def _headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": "no-cache"}


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {c.strip().removeprefix("W/") for c in if_none_match.split(",")}
    return "*" in candidates or etag in candidates
