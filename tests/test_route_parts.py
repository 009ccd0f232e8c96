"""The parts routes are made of: rows become contract Structs (`views.from_row`), a GET
with an ETag is tagged by its middleware (`caching.etagged`), and a handler's docstring
is its operation's documentation (`params.DocumentedOperation`)."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from litestar.types import Message, Receive, Scope, Send

from api.app import create_app
from api.routes.caching import etagged
from api.services.views import from_row
from mobile_contract import models

NOW = datetime(2026, 12, 3, tzinfo=UTC)


def test_a_row_becomes_a_struct_by_column_names() -> None:
    link_id, partner, business = uuid4(), uuid4(), uuid4()
    row = {
        "id": link_id,
        "partner": partner,
        "business": business,
        "client": uuid4(),  # a column the model has no field for
        "access_level": "full",
        "status": "active",
        "created_at": NOW,
        "revoked_at": None,
    }
    link = from_row(models.Link, row, partner_name="Accountants & Co")
    assert link == models.Link(
        id=link_id,
        partner_id=partner,
        business_id=business,
        access_level="full",
        status="active",
        created_at=NOW,
        revoked_at=None,
        partner_name="Accountants & Co",
    )
    revoked = from_row(models.Link, row, status="revoked", partner_name=None)
    assert revoked.status == "revoked" and revoked.partner_name is None
    with pytest.raises(KeyError, match="partner_name"):
        from_row(models.Link, row)  # a field with a default is not quietly left at it


def _answered(
    start: dict[str, Any], bodies: list[bytes], if_none_match: str | None = None
) -> list[Message]:
    """What `etagged` sends for a route that sends `start` and then `bodies`."""

    async def route(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", **start})  # type: ignore[typeddict-item]
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


def test_every_operation_is_documented_by_its_handler_docstring(settings: Any) -> None:
    app = create_app(settings)
    documented = [
        handler
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if handler.resolve_include_in_schema()
    ]
    assert len(documented) > 40
    for handler in documented:
        name = handler.handler_name
        assert handler.summary is None and handler.description is None, name
        assert handler.fn.__doc__, f"{name} has no docstring"
