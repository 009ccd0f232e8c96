"""`Idempotency-Key` on the POSTs that create: the first answer again for a repeat."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, TypeAlias, TypeVar

import msgspec
from litestar import Response
from litestar.di import NamedDependency
from litestar.params import HeaderParameter

from api.errors import language_of
from api.routes.params import AnyRequest, Member
from api.services import access, idempotency

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


@dataclass(frozen=True, slots=True)
class Once:
    """A partner's create under its `Idempotency-Key`: its answer, and for a repeat the
    first answer again (the dependency `once` of the POSTs that create clients and
    registration links and send invitations)."""

    request: AnyRequest
    member: access.Member
    key: str | None

    @property
    def canonical_path(self) -> str:
        """The path a key is kept under, its parameters as parsed: a partner id spelt in
        capitals, without dashes or in braces is the same path (and the same key)."""
        params = {name: str(value) for name, value in self.request.path_params.items()}
        return str(self.request.scope["path_template"]).format_map(params)

    @property
    def language(self) -> str:
        """The caller's, for what the answer says in words (kept in English)."""
        return language_of(self.request)

    async def __call__(
        self, data: msgspec.Struct, answer_type: type[T], compute: Callable[[], Awaitable[T]]
    ) -> Response[T]:
        """`compute()` as the handler's answer; under the key, at most once per request."""
        status_code = self.request.route_handler.status_code or 200
        if self.key is None:
            return Response(await compute(), status_code=status_code)

        async def first() -> idempotency.Answer:
            return idempotency.Answer(status_code, msgspec.json.encode(await compute()))

        path = self.canonical_path
        print_ = idempotency.fingerprint(self.request.method, path, msgspec.json.encode(data))
        answer, replayed = await idempotency.once(
            self.member.user.sub, self.member.partner_id, path, self.key, print_, first
        )
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        body = msgspec.json.decode(answer.body, type=answer_type)
        return Response(body, status_code=answer.status_code, headers=headers)


async def once_per_key(
    request: AnyRequest, member: Member, idempotency_key: IdempotencyKeyHeader = None
) -> Once:
    """Dependency: the request's `Idempotency-Key` (documented on each route using it),
    read once the caller is known to be a member (a non-member's key is never looked at)."""
    return Once(request, member, idempotency_key)


Idempotent: TypeAlias = NamedDependency[Once]
