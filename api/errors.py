"""One error family, `AppError(code)`, and its rendering as problem+json (RFC 9457).

Services raise AppError; the handlers here turn it, Litestar's own HTTP exceptions and
database outages into problem documents, so every error a client sees has a stable code.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.types import Receive, Scope, Send

from api.field_messages import in_words
from api.head import allowed_with_head
from api.languages import preferred_language
from api.parameters import declared
from db.errors import is_outage, is_transient_conflict
from mobile_contract import STATUS, TITLES, ErrorCode, problem_type
from mobile_contract.errors import translate
from mobile_contract.models import FieldError, ImportResult, InviteResult, Problem

log = logging.getLogger("api.errors")

PROBLEM_JSON = "application/problem+json"


class AppError(Exception):
    """A failure with a stable `ErrorCode`; the HTTP status follows from the code."""

    def __init__(
        self,
        code: ErrorCode,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        retry_after: int | None = None,
        **extra: Any,
    ) -> None:
        """`extra`: further fields of the problem document (see `Problem`)."""
        super().__init__(detail or TITLES[code])
        self.code = code
        self.detail = detail or TITLES[code]
        self.errors = errors
        self.retry_after = retry_after
        self.extra = extra

    @property
    def status(self) -> int:
        return STATUS[self.code]


def not_found(what: str = "Not found") -> AppError:
    return AppError(ErrorCode.NOT_FOUND, what)


def concurrent_change() -> AppError:
    """A 503 for work that met a concurrent change (a deadlock, or a change that would not
    settle): the same request, retried, succeeds."""
    return AppError(
        ErrorCode.UNAVAILABLE, "A concurrent change got in the way; retry.", retry_after=1
    )


def invalid(field: str, message: str) -> AppError:
    """A 400 validation_failed about one field."""
    return AppError(
        ErrorCode.VALIDATION_FAILED,
        f"{field}: {message}",
        errors=[FieldError(field=field, message=message)],
    )


def problem_response(error: AppError, language: str = "en") -> Response[bytes]:
    """`error` as problem+json, its `title`, `detail` and field messages in `language`
    (`code` never changes)."""
    errors = error.errors
    detail = translate(error.detail, language)
    if errors:
        errors = [FieldError(field=e.field, message=translate(e.message, language)) for e in errors]
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    body = Problem(
        type=problem_type(error.code),
        title=translate(TITLES[error.code], language),
        status=error.status,
        detail=detail,
        code=error.code.value,
        errors=errors,
        **error.extra,
    )
    headers = {"Cache-Control": "no-store", "Content-Language": language, "Vary": "Accept-Language"}
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    if error.status == 401:  # the scheme to sign in with (RFC 9110 §11.6.1, RFC 6750)
        headers["WWW-Authenticate"] = "Bearer"
    return Response(
        content=msgspec.json.encode(body),
        status_code=error.status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def item_errors_in(language: str, results: Iterable[ImportResult | InviteResult]) -> None:
    """The item errors of a bulk answer (written in English) in `language`, as a problem's
    `detail`: a field's message after its name, or the whole detail."""
    for result in results:
        error = result.error
        if error is None:
            continue
        if error.field is not None and error.detail.startswith(f"{error.field}: "):
            message = error.detail.removeprefix(f"{error.field}: ")
            error.detail = f"{error.field}: {translate(message, language)}"
        else:
            error.detail = translate(error.detail, language)


def language_of(request: Request[Any, Any, Any]) -> str:
    return preferred_language(request.headers.get("accept-language"), None)


def _field_errors(request: Request[Any, Any, Any], extra: Any) -> list[FieldError]:
    """Litestar/msgspec validation details as `{field, message}` pairs, the field named
    as the API spells it and the message in words."""
    handler = request.scope.get("route_handler")
    aliases: dict[str, str] = {}
    if isinstance(handler, HTTPRouteHandler):
        aliases = declared(handler, set(request.path_params)).aliases
    errors = []
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            message = str(item.get("message") or "invalid value")
            key = str(item.get("key") or "body")
            key = "body" if key == "data" else aliases.get(key, key.removeprefix("$."))
            field, words = in_words(key, message)
            errors.append(FieldError(field=field, message=words))
    return errors


def handle_app_error(request: Request[Any, Any, Any], exc: AppError) -> Response[bytes]:
    return problem_response(exc, language_of(request))


def handle_validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[bytes]:
    errors = _field_errors(request, exc.extra) or [
        FieldError(field="body", message="is not a JSON body this route takes")
    ]
    return problem_response(validation_error(errors), language_of(request))


def validation_error(errors: list[FieldError]) -> AppError:
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
    return AppError(ErrorCode.VALIDATION_FAILED, detail, errors=errors)


_HTTP_CODES = {
    400: ErrorCode.VALIDATION_FAILED,
    401: ErrorCode.UNAUTHENTICATED,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.PAYLOAD_TOO_LARGE,
    429: ErrorCode.RATE_LIMITED,
    503: ErrorCode.UNAVAILABLE,
}


def handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[bytes]:
    code = _HTTP_CODES.get(exc.status_code)
    if code is None:
        code = ErrorCode.VALIDATION_FAILED if exc.status_code < 500 else ErrorCode.INTERNAL_ERROR
    # Litestar's words for these say no more than the title, which is translated.
    own_words = code in (
        ErrorCode.INTERNAL_ERROR,
        ErrorCode.PAYLOAD_TOO_LARGE,
        ErrorCode.NOT_FOUND,
        ErrorCode.METHOD_NOT_ALLOWED,
    )
    detail = TITLES[code] if own_words else exc.detail
    if code is ErrorCode.VALIDATION_FAILED:
        field, words = in_words("body", detail)
        error = validation_error([FieldError(field=field, message=words)])
    else:
        error = AppError(code, detail)
    response = problem_response(error, language_of(request))
    if exc.status_code == 405 and exc.headers:
        response.headers.update(allowed_with_head(exc.headers))
    return response


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    if is_transient_conflict(exc):
        log.warning("transient conflict: %s", type(exc).__name__)
        return problem_response(concurrent_change(), language_of(request))
    if is_outage(exc):
        log.warning("database unavailable: %s: %s", type(exc).__name__, exc)
        return problem_response(
            AppError(
                ErrorCode.UNAVAILABLE, "The database is unreachable; retry later.", retry_after=1
            ),
            language_of(request),
        )
    log.exception("unhandled error on %s %s", request.method, request.scope.get("route_handler"))
    return problem_response(AppError(ErrorCode.INTERNAL_ERROR), language_of(request))


async def send_problem(error: AppError, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer `error` from a middleware as the exception handlers would, so that the
    request log and the metrics (outer middleware) see its status, not a 500."""
    request: Request[Any, Any, Any] = Request(scope, receive, send)
    await handle_app_error(request, error).to_asgi_response(None, request)(scope, receive, send)


EXCEPTION_HANDLERS = {
    AppError: handle_app_error,
    ValidationException: handle_validation,
    HTTPException: handle_http,
    Exception: handle_unexpected,
}
