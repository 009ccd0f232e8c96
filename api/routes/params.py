"""What handlers receive: the service context, the signed-in user, path ids; and the
problem responses they document."""

from typing import Any, TypeAlias
from uuid import UUID

from litestar import Request
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath

from api.auth import unauthenticated
from api.services.context import Context
from mobile_contract import STATUS, TITLES, ErrorCode
from mobile_contract.models import Problem, User

Ctx: TypeAlias = NamedDependency[Context]
CurrentUser: TypeAlias = NamedDependency[User]
PathId: TypeAlias = FromPath[UUID]
PathStr: TypeAlias = FromPath[str]


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def current_user(request: Request[Any, Any, Any], ctx: Ctx) -> User:
    """Dependency: the user of the request's bearer token, or 401."""
    token = bearer_token(request)
    if token is None:
        raise unauthenticated()
    return await ctx.verifier.verify(token)


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The problem+json answers a route documents, each with the codes it may carry."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            generate_examples=False,
            media_type="application/problem+json",
            description="; ".join(
                f"`{code.value}`: {TITLES[code]}" for code in ErrorCode if STATUS[code] == status
            ),
        )
        for status in statuses
    }


# Every signed-in route may answer these; the description of each lists its codes.
API_PROBLEMS = problems(400, 401, 403, 404, 409, 410, 429, 503)
PUBLIC_PROBLEMS = problems(400, 404, 409, 410, 503)
# The landing page answers its errors as pages.
PAGE_ERRORS = {
    status: ResponseSpec(
        data_container=str, media_type="text/html", generate_examples=False, description=text
    )
    for status, text in (
        (400, "The link is not one of ours"),
        (409, "The invitation was already accepted"),
        (410, "The invitation or link has expired, was withdrawn, replaced or declined"),
    )
} | problems(503)
NOT_MODIFIED = {304: ResponseSpec(data_container=None, description="Not modified (If-None-Match)")}
