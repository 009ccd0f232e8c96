"""ETag / If-None-Match for the GETs that dashboards poll."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Hashable
from typing import Any
from uuid import UUID

import msgspec
from litestar import Request, Response

from api.services.revisions import RevisionCache, Versioned


def etag_response(request: Request[Any, Any, Any], body: msgspec.Struct) -> Response[bytes]:
    """`body` as JSON with a strong ETag, or an empty 304 when the client already has it."""
    return _respond(request, *_encode(body))


async def cached_etag_response(
    request: Request[Any, Any, Any],
    etags: RevisionCache[Hashable, str],
    key: Hashable,
    partner_id: UUID,
    compute: Callable[[], Awaitable[Versioned]],
) -> Response[bytes]:
    """`etag_response`, answering a matching If-None-Match from memory while the ETag last
    computed for `key` is still true (see api.services.revisions)."""
    known = etags.get(key)
    if known is not None and _matches(request, known):
        return _not_modified(known)
    answer = await compute()
    content, etag = _encode(answer.body)
    etags.put(key, partner_id, answer.revision, etag, answer.valid_until)
    return _respond(request, content, etag)


def _encode(body: msgspec.Struct) -> tuple[bytes, str]:
    content = msgspec.json.encode(body)
    return content, '"' + hashlib.blake2b(content, digest_size=12).hexdigest() + '"'


def _respond(request: Request[Any, Any, Any], content: bytes, etag: str) -> Response[bytes]:
    if _matches(request, etag):
        return _not_modified(etag)
    return Response(content=content, media_type="application/json", headers=_headers(etag))


def _headers(etag: str) -> dict[str, str]:
    return {"ETag": etag, "Cache-Control": "no-cache"}


def _not_modified(etag: str) -> Response[bytes]:
    return Response(content=b"", status_code=304, headers=_headers(etag))


def _matches(request: Request[Any, Any, Any], etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    candidates = {c.strip().removeprefix("W/") for c in header.split(",")}
    return "*" in candidates or etag in candidates
