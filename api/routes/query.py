"""Unknown query parameters on the API are an error.

A misspelt filter (`?email_stauts=failed`) silently ignored would answer the whole list
as if it were the filtered one. Each `/api/v1/…` request is checked against the query
parameters its handler declares (read from Litestar's own parameter model of the
handler, so a new parameter needs nothing here). The public pages (`/i/…`,
`.well-known`) are not checked: mail systems add tracking parameters to links.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from api.errors import invalid, send_problem
from api.lru import LRU
from api.parameters import declared

# A query string a handler was found to take, so that a dashboard polling the same
# filter again is not parsed again; only short ones, so the memory it holds is bounded.
_taken: LRU[tuple[HTTPRouteHandler, bytes], bool] = LRU(4096)
REMEMBERED_QUERY_BYTES = 512


def reject_unknown_query(app: ASGIApp) -> ASGIApp:
    """Middleware: 400 validation_failed naming the first query parameter the route does
    not take, or that is given twice (which one would count is nobody's guess: lists are
    comma-separated in one parameter)."""

    async def checked(scope: Scope, receive: Receive, send: Send) -> None:
        query = scope.get("query_string", b"")
        handler = scope.get("route_handler")
        if query and isinstance(handler, HTTPRouteHandler) and not _taken.get((handler, query)):
            allowed = declared(handler, set(scope.get("path_params", {}))).query
            seen: set[str] = set()
            for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                error = None
                if name not in allowed:
                    known = ", ".join(sorted(allowed)) or "none"
                    error = invalid(name, f"unknown query parameter; this route takes: {known}")
                elif name in seen:
                    error = invalid(name, "given more than once; give it once")
                if error is not None:
                    await send_problem(error, scope, receive, send)
                    return
                seen.add(name)
            if len(query) <= REMEMBERED_QUERY_BYTES:
                _taken.put((handler, query), True)
        await app(scope, receive, send)

    return checked
