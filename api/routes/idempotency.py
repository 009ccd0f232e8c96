"""`Idempotency-Key` on the POSTs that create: the first answer again for a repeat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import msgspec
from litestar import Request, Response
from litestar.params import HeaderParameter

from api.services import idempotency
from mobile_contract.models import User

T = TypeVar("T", bound=msgspec.Struct)

IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x20-\x7e]+\Z",
        description="1-255 printable characters. The same key with the same body within "
        "24 h answers the first response again and changes nothing (`Idempotent-Replayed: "
        "true`); with another body, 409 idempotency_conflict.",
    ),
]


async def idempotent(
    request: Request[Any, Any, Any],
    user: User,
    key: str | None,
    data: msgspec.Struct,
    answer_type: type[T],
    compute: Callable[[], Awaitable[T]],
) -> Response[T]:
    """`compute()` as the handler's answer; under `key`, at most once per request."""
    status_code = request.route_handler.status_code or 200
    if key is None:
        return Response(await compute(), status_code=status_code)

    async def first() -> idempotency.Answer:
        return idempotency.Answer(status_code, msgspec.json.encode(await compute()))

    path = request.url.path
    print_ = idempotency.fingerprint(request.method, path, msgspec.json.encode(data))
    answer, replayed = await idempotency.once(user.sub, path, key, print_, first)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    body = msgspec.json.decode(answer.body, type=answer_type)
    return Response(body, status_code=answer.status_code, headers=headers)
