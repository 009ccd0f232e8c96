"""HEAD answered as GET without its body.

RFC 9110 (section 9.1) asks every general-purpose server to support GET and HEAD, and
what asks HEAD of this service is real: uptime checks of `/healthz`, and the link checkers
of mail systems that look at the links in our emails before the reader does. Litestar
routes HEAD only to `@head` handlers, which may not return a body, so every GET route
would need a twin. Instead the whole app is wrapped: a HEAD request is routed and
answered as a GET (every GET of this service is safe: the landing page and the QR image
change nothing, an invitation is marked opened by the app's preview), and the answer's
status and headers, `Content-Length` included, go out without the body.
"""

from __future__ import annotations

from collections.abc import Mapping

from litestar.types import ASGIApp, Message, Receive, Scope, Send


def answer_head_as_get(app: ASGIApp) -> ASGIApp:
    async def handle(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":  # type: ignore[typeddict-item]
            await app(scope, receive, send)
            return
        # In place: the access log around this reads the route Litestar writes into it.
        scope["method"] = "GET"  # type: ignore[typeddict-unknown-key]

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await app(scope, receive, without_body)

    return handle


def allowed_with_head(headers: Mapping[str, str]) -> dict[str, str]:
    """The headers of a 405 with `Allow` listing HEAD wherever it lists GET (Litestar's
    lists the routes' own methods, and HEAD is answered here)."""
    answered = dict(headers)
    for name, value in headers.items():
        if name.lower() == "allow":
            methods = {method.strip() for method in value.split(",")}
            if "GET" in methods:
                methods.add("HEAD")
            answered[name] = ", ".join(sorted(methods))
    return answered
