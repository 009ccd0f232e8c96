"""Request bodies on the API: the caller is known before a body is read, each body is
bounded in size and arrives in time.

Litestar reads a body while it prepares the handler's arguments, before dependencies run,
so an anonymous caller could hold a connection open by sending a body one byte at a time.
`guarded_bodies`, a raw ASGI middleware of the `/api/v1` router, checks the access token
(401 at once, the body never read) and then hands the route a `receive` that gives up when
the body is late: it must arrive within `BODY_READ_SECONDS`, extended by one second for
every `BODY_MIN_BYTES_PER_SECOND` bytes received (a large import on a slow line still
arrives; a trickle does not).

Sizes are Litestar's `request_max_body_size`, set per layer (a body past it is
`413 payload_too_large`, refused from its `Content-Length` before any byte is read): the
limits below.
"""

from __future__ import annotations

import asyncio

from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from api.auth import bearer_in, unauthenticated
from api.errors import AppError, invalid, send_problem
from api.services.context import Context

KIB = 1024
# Every body of the API (spaces, clients, settings, registration links, webhooks) ...
API_BODY_MAX = 16 * KIB
# ... the app's calls (a token of at most 4,096 characters and a business) ...
MOBILE_BODY_MAX = 8 * KIB
# ... an invite (1,000 ids and a 2,000-character message, escaped) ...
INVITE_BODY_MAX = 256 * KIB
# ... and an import (5,000 clients of about a kilobyte each).
IMPORT_BODY_MAX = 8 * KIB * KIB

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LATE_BODY = "did not arrive in time"


def guarded_bodies(app: ASGIApp) -> ASGIApp:
    """Middleware: 401 before a body is read; the body read against a deadline."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in _BODY_METHODS:
            await app(scope, receive, send)
            return
        app_ = scope["litestar_app"]
        ctx: Context = app_.state.ctx
        token = bearer_in(scope)
        try:
            if token is None:
                raise unauthenticated()
            await ctx.verifier.verify(token)  # remembered: the `user` dependency asks again
        except AppError as error:
            await send_problem(error, scope, receive, send)
            return
        settings = ctx.settings
        timed = _in_time(receive, settings.body_read_seconds, settings.body_min_bytes_per_second)
        await app(scope, timed, send)

    return guarded


def _in_time(receive: Receive, seconds: float, min_rate: float) -> Receive:
    """`receive`, raising 400 once the body is later than its deadline."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    received = 0
    complete = False

    async def timed() -> ReceiveMessage:
        nonlocal received, complete
        if complete:  # after the body: waiting for a disconnect is not bounded here
            return await receive()
        left = start + seconds + received / min_rate - loop.time()
        try:
            async with asyncio.timeout(max(left, 0.001)):  # no task per message, unlike wait_for
                message = await receive()
        except TimeoutError:
            raise invalid("body", LATE_BODY) from None
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            complete = not message.get("more_body", False)
        return message

    return timed
