"""Answers from memory, given before Litestar makes a request of the ASGI scope.

The dashboards' polls of their client list (a 304 for the ETag they already have) and
the QR images that mail clients and pages fetch again and again are, most of the time,
answered from what this process remembers (`api.services.revisions`). Their routes take
`answered_from_memory(find)` as middleware: `find(ctx, scope)` gives the whole answer, or
None, from the raw scope, so a hit costs no `Request`, no parameters or dependencies and
no `Response`, only the routing before it; a miss goes on to the handler as usual, which
answers the same (a test compares the two).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from litestar.types import ASGIApp, Receive, Scope, Send

from api.services.context import Context


class Answer(NamedTuple):
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


Find = Callable[[Context, Scope], Answer | None]


def answered_from_memory(find: Find) -> Callable[[ASGIApp], ASGIApp]:
    """Route middleware: what `find` remembers, or the route."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def answered(scope: Scope, receive: Receive, send: Send) -> None:
            answer = find(scope["litestar_app"].state.ctx, scope)
            if answer is None:
                await app(scope, receive, send)
                return
            await send(
                {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
            )
            await send({"type": "http.response.body", "body": answer.body, "more_body": False})

        return answered

    return middleware


def encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    """`headers` as ASGI sends them (names in lower case, as Litestar writes them)."""
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]
