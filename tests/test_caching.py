"""The ETag of a GET that dashboards poll (`api.routes.caching.etagged`), on its own; the
same through the API: `tests/test_clients.py`."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest
from litestar.types import Message, Receive, Scope, Send

from api.routes.caching import etagged


def _answered(
    start: dict[str, Any], bodies: list[bytes], if_none_match: str | None = None
) -> list[Message]:
    """What `etagged` sends for a route that sends `start` and then `bodies`."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        status, headers = start["status"], start["headers"]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for n, body in enumerate(bodies, 1):
            more = n < len(bodies)
            await send({"type": "http.response.body", "body": body, "more_body": more})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    async def receive() -> Any:
        raise AssertionError("not read")

    headers = [] if if_none_match is None else [(b"if-none-match", if_none_match.encode())]
    scope = {"type": "http", "method": "GET", "headers": headers}
    asyncio.run(etagged(route)(scope, receive, send))  # type: ignore[arg-type]
    return sent


def test_etagged_tags_a_whole_200_and_answers_a_match_with_an_empty_304() -> None:
    body = b'{"id":"x"}'
    etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
    json = (b"content-type", b"application/json")
    tags = [(b"etag", etag.encode()), (b"cache-control", b"no-cache")]
    start, content = _answered({"status": 200, "headers": [json]}, [body])
    assert start == {"type": "http.response.start", "status": 200, "headers": [json, *tags]}
    assert content == {"type": "http.response.body", "body": body, "more_body": False}
    assert _answered({"status": 200, "headers": [json]}, [body], if_none_match=etag) == [
        {"type": "http.response.start", "status": 304, "headers": tags},
        {"type": "http.response.body", "body": b"", "more_body": False},
    ]


@pytest.mark.parametrize(
    ("status", "bodies"),
    [(404, [b'{"code":"not_found"}']), (200, [b'{"items":[', b"]}"])],
    ids=["an error", "a streamed body"],
)
def test_etagged_passes_other_answers_as_they_are(status: int, bodies: list[bytes]) -> None:
    start = {"status": status, "headers": [(b"content-type", b"application/json")]}
    sent = _answered(start, bodies, if_none_match="*")
    assert sent == [
        {"type": "http.response.start", **start},
        *(
            {"type": "http.response.body", "body": body, "more_body": n < len(bodies)}
            for n, body in enumerate(bodies, 1)
        ),
    ]
