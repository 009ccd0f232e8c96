"""ETag / If-None-Match for the GETs that dashboards poll."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Hashable
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response
from litestar.types import ASGIApp, HTTPResponseStartEvent, Message, Receive, Scope, Send

from api.auth import header
from api.routes.memory import Answer, encoded
from api.services.context import Context
from api.services.revisions import Versioned
from mobile_contract.models import User


def etagged(app: ASGIApp) -> ASGIApp:
    """Route middleware (`params.with_etag`): the route's 200 answer gets a strong ETag and
    `Cache-Control: no-cache`, or is an empty 304 with the two headers when the request's
    If-None-Match has that ETag already. Other answers pass as they are."""

    async def tagged(scope: Scope, receive: Receive, send: Send) -> None:
        held: HTTPResponseStartEvent | None = None  # a 200's start, until its body is known

        async def send_tagged(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start" and message["status"] == 200:
                held = message
                return
            start, held = held, None
            if start is None or message["type"] != "http.response.body" or message.get("more_body"):
                if start is not None:  # not one whole body: as it is
                    await send(start)
                await send(message)
                return
            etag = _etag(message["body"])
            tags = encoded(_headers(etag))
            if _matches(header(scope, b"if-none-match"), etag):
                await send({"type": "http.response.start", "status": 304, "headers": tags})
                await send({"type": "http.response.body", "body": b"", "more_body": False})
            else:
                await send({**start, "headers": [*start["headers"], *tags]})
                await send(message)

        await app(scope, receive, send_tagged)

    return tagged


async def remembered_etag_response(
    request: Request[Any, Any, Any],
    user: User,
    partner_id: UUID,
    compute: Callable[[], Awaitable[Versioned]],
) -> Response[bytes]:
    """What `compute` returns, as JSON with a strong ETag or an empty 304 (as `etagged`
    answers), remembering its ETag for
    `not_modified_in_memory` while the answer stays true (see api.services.revisions)."""
    answer = await compute()
    content = msgspec.json.encode(answer.body)
    etag = _etag(content)
    ctx: Context = request.app.state.ctx
    ctx.list_etags.put(
        _key(request.scope, user.sub), partner_id, answer.revision, etag, answer.valid_until
    )
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(content=b"", status_code=304, headers=_headers(etag))
    return Response(content=content, media_type="application/json", headers=_headers(etag))


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


def _etag(content: bytes) -> str:
    return '"' + hashlib.blake2b(content, digest_size=12).hexdigest() + '"'


def _headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": "no-cache"}


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {c.strip().removeprefix("W/") for c in if_none_match.split(",")}
    return "*" in candidates or etag in candidates
