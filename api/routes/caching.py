"""ETag / If-None-Match for the GETs that dashboards poll."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar import Request, Response


def etag_response(request: Request[Any, Any, Any], body: msgspec.Struct) -> Response[bytes]:
    """`body` as JSON with a strong ETag, or an empty 304 when the client already has it."""
    content = msgspec.json.encode(body)
    etag = '"' + hashlib.blake2b(content, digest_size=12).hexdigest() + '"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(content=b"", status_code=304, headers=headers)
    return Response(content=content, media_type="application/json", headers=headers)


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return "*" in candidates or etag in candidates
