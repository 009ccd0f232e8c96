"""Strict decoding of JSON request bodies.

Litestar converts a decoded body to the handler's `data` type with `strict=False`, which
turns `"300"` into `300` and `"true"` into `True`. The contract says a body is decoded
strictly, so this request class converts it to the `data` type itself, strictly, and
hands the handler's signature model the finished Struct (which msgspec passes through
unchanged). Errors take the form Litestar gives them, so they read the same.

The body is read before dependencies run, but a caller without a valid access token must
get 401 whatever the body: on a signed-in route a refused body is kept until the `user`
dependency has checked the token (`raise_refused_body`).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.types import Empty

_AT_PATH = re.compile(r" - at `\$\.?(.*)`$")
_REFUSED = "refused_body"
TOO_DEEP = "is nested too deeply"


class StrictRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        if self._json is not Empty:
            return self._json
        try:
            value = await super().json()  # malformed JSON fails here, as before
        except RecursionError:  # msgspec refuses deep nesting this way
            raise self._refusal(TOO_DEEP) from None
        parameters = self.route_handler.parsed_fn_signature.parameters
        data = parameters.get("data")
        if data is None or value is None:
            return value
        try:
            converted = msgspec.convert(value, data.annotation, strict=True, str_keys=True)
        except (msgspec.ValidationError, RecursionError) as exc:
            refusal = self._refusal(TOO_DEEP if isinstance(exc, RecursionError) else str(exc))
            if "user" not in parameters:
                raise refusal from None
            self.state[_REFUSED] = refusal
            return value  # never reaches the handler: see raise_refused_body
        self._json = self._connection_state.json = converted
        return converted

    def _refusal(self, message: str) -> ValidationException:
        at = _AT_PATH.search(message)
        key = (at.group(1) or "data") if at else "data"
        return ValidationException(
            detail=f"Validation failed for {self.method} {self.url.path}",
            extra=[{"message": message[: at.start()] if at else message, "key": key}],
        )


def raise_refused_body(request: Request[Any, Any, Any]) -> None:
    """Raise the 400 of a body that strict decoding refused, once the caller is known."""
    refusal = request.state.get(_REFUSED)
    if refusal is not None:
        raise refusal
