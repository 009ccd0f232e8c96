"""What handlers receive: the service context, the signed-in user, path ids; and how each
operation is documented (its operationId and the problem answers it can give)."""

from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any, TypeAlias
from uuid import UUID

from litestar import Request, post
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Operation, Reference, RequestBody, Schema
from litestar.params import FromPath

from api import addresses
from api.auth import bearer_of, unauthenticated
from api.languages import asked_language
from api.routes.caching import etagged
from api.services import access, users
from api.services.context import Context
from mobile_contract import STATUS, TITLES, ErrorCode
from mobile_contract.models import Problem, User

Ctx: TypeAlias = NamedDependency[Context]
CurrentUser: TypeAlias = NamedDependency[User]
Member: TypeAlias = NamedDependency[access.Member]
PathId: TypeAlias = FromPath[UUID]
PathStr: TypeAlias = FromPath[str]
Codes: TypeAlias = tuple[ErrorCode, ...]
AnyRequest: TypeAlias = Request[Any, Any, Any]


def client_address(request: AnyRequest, ctx: Context) -> str | None:
    """The address the request came from: the peer's, or behind proxies named in
    `TRUSTED_PROXIES`, the one they forwarded it for (`api.addresses`)."""
    peer = request.client.host if request.client else None
    if not ctx.proxies:
        return peer
    forwarded = request.headers.getall("x-forwarded-for", [])
    return addresses.forwarded_client(peer, forwarded, ctx.proxies)


def bearer_token(request: Request[Any, Any, Any]) -> str | None:
    return bearer_of(request.headers.get("authorization", ""))


async def current_user(request: Request[Any, Any, Any], ctx: Ctx) -> User:
    """Dependency: the user of the request's bearer token, or 401."""
    token = bearer_token(request)
    if token is None:
        raise unauthenticated()
    user = await ctx.verifier.verify(token)
    await users.remember(ctx, user, asked_language(request.headers.get("accept-language")))
    return user


async def partner_member(user: CurrentUser, partner_id: PathId) -> access.Member:
    """Dependency: the signed-in user as a member of the path's partner, or 404."""
    return await access.member_of(user, partner_id)


# The codes an operation can answer, composed per route from these groups. Every route
# may be 503 (database unreachable); a path that does not parse (a malformed id) matches
# no route, so it is a 404 only where the route can answer 404 anyway.
E = ErrorCode
UNAVAILABLE: Codes = (E.UNAVAILABLE,)
INVALID: Codes = (E.VALIDATION_FAILED,)
SIGNED_IN: Codes = (E.UNAUTHENTICATED, E.UNAVAILABLE)
IN_PARTNER: Codes = (*SIGNED_IN, E.NOT_FOUND)  # outsiders get 404, never 403
GRANT: Codes = (  # what a token or typed code may be found to be
    E.TOKEN_INVALID,
    E.TOKEN_EXPIRED,
    E.INVITATION_EXPIRED,
    E.INVITATION_REVOKED,
    E.INVITATION_SUPERSEDED,
    E.INVITATION_DECLINED,
    E.INVITATION_ALREADY_ACCEPTED,
    E.REGISTRATION_LINK_REVOKED,
    E.REGISTRATION_LINK_EXPIRED,
    E.REGISTRATION_LINK_EXHAUSTED,
)
USER_CODE: Codes = (E.NOT_FOUND, E.RATE_LIMITED)  # a wrong code; too many wrong codes


def problems(*codes: ErrorCode) -> dict[int, ResponseSpec]:
    """The problem+json answers of `codes`, one per status, each listing its codes
    (titles from `mobile_contract.errors`, the one table of codes)."""
    by_status: dict[int, list[ErrorCode]] = {}
    for code in dict.fromkeys(codes):
        by_status.setdefault(STATUS[code], []).append(code)
    return {
        status: ResponseSpec(
            data_container=Problem,
            generate_examples=False,
            media_type="application/problem+json",
            description="; ".join(f"`{code.value}`: {TITLES[code]}" for code in listed),
        )
        for status, listed in sorted(by_status.items())
    }


@dataclass
class DocumentedOperation(Operation):
    """An operation that documents only the errors its route declares.

    Litestar adds a generic 400 (plain JSON, not a problem document) to every operation
    that has parameters, although a malformed path id never reaches the handler (no route
    matches: 404). A 400 that a route declares is problem+json (or the landing page's
    HTML), so a plain JSON 400 is Litestar's and is dropped.

    An optional body (`JSONBody[X | None] = None`) is documented by Litestar as a required
    `X or null`; it is an optional `X`.

    Every operation that takes a body may answer `413 payload_too_large` (a body over its
    route's size, `api.routes.bodies`), and every operation of `/api/v1` (those behind its
    sign-in) `400 validation_failed` (an unknown or repeated query parameter,
    `api.routes.query`), documented like its other problem answers.

    The handler's docstring (`use_handler_docstrings`) is its documentation: the first
    paragraph, without its final period, is the summary; the others are the description,
    each paragraph's lines joined into one.
    """

    def __post_init__(self) -> None:
        if self.description:
            summary, *paragraphs = self.description.split("\n\n")
            self.summary = " ".join(summary.split()).removesuffix(".")
            self.description = "\n\n".join(" ".join(p.split()) for p in paragraphs) or None
        bad_request = (self.responses or {}).get("400")
        content = getattr(bad_request, "content", None) or {}
        if self.responses and "application/json" in content:
            del self.responses["400"]
        body = self.request_body
        if body is not None and self.responses and "413" not in self.responses:
            self.responses["413"] = _problem_like(self.responses, E.PAYLOAD_TOO_LARGE)
        if self.security and self.responses and "400" not in self.responses:
            self.responses["400"] = _problem_like(self.responses, E.VALIDATION_FAILED)
        if isinstance(body, RequestBody):
            for media in body.content.values():
                variants = getattr(media.schema, "one_of", None) or []
                named = [v for v in variants if isinstance(v, Reference)]
                nulls = [
                    v for v in variants if isinstance(v, Schema) and v.type == OpenAPIType.NULL
                ]
                if len(variants) == 2 and len(named) == 1 and len(nulls) == 1:
                    media.schema = named[0]
                    body.required = False


def _problem_like(responses: dict[str, Any], code: ErrorCode) -> Any:
    """The answer of `code`, shaped like the operation's other problem answers."""
    shape = next(r for r in responses.values() if PROBLEM in (getattr(r, "content", None) or {}))
    return replace(shape, description=f"`{code.value}`: {TITLES[code]}")


PROBLEM = "application/problem+json"


def documented(
    operation_id: str, *codes: ErrorCode, more: dict[int, ResponseSpec] | None = None
) -> dict[str, Any]:
    """Route decorator options: a stable `operationId` (a short camelCase verb phrase,
    never renamed once published) and exactly the problem answers of `codes`."""
    return {
        "operation_id": operation_id,
        "operation_class": DocumentedOperation,
        "responses": problems(*codes) | (more or {}),
    }


def action(path: str, operation_id: str, *codes: ErrorCode, **options: Any) -> post:
    """A POST `documented` with `codes` that answers 200 with its result, not 201 Created:
    an action on what exists (revoke, resend, preview…) or a batch whose answer holds a
    result per row (import, invite). `options` are the route's others."""
    return post(path, status_code=200, **documented(operation_id, *codes), **options)


def json_body(container: Any) -> ResponseSpec:
    """A 200 body that a handler returns as a raw `Response` (e.g. with an ETag), described
    as Litestar describes the 200 of the routes that return their model."""
    return ResponseSpec(
        data_container=container, generate_examples=False, description=HTTPStatus.OK.description
    )


NOT_MODIFIED = {
    304: ResponseSpec(
        data_container=None, description="Not modified: the If-None-Match ETag is current"
    )
}
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
}


def with_etag(operation_id: str, *codes: ErrorCode) -> dict[str, Any]:
    """Route options of a GET answered with an `ETag` (`caching.etagged`), and 304 without
    one."""
    return documented(operation_id, *codes, more=NOT_MODIFIED) | {"middleware": [etagged]}
