"""Strict decoding of JSON request bodies.

Litestar converts a decoded body to the handler's `data` type with `strict=False`, which
turns `"300"` into `300` and `"true"` into `True`. The contract says a body is decoded
strictly, so this request class converts it to the `data` type itself, strictly, and
hands the handler's signature model the finished Struct (which msgspec passes through
unchanged). Errors take the form Litestar gives them, so they read the same.

A caller without a valid access token gets 401 whatever the body: `guarded_bodies`
(`api.routes.bodies`) checks the token before a body is read.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.types import Empty

_AT_PATH = re.compile(r" - at `\$\.?(.*)`$")
TOO_DEEP = "is nested too deeply"


class StrictRequest(Request[Any, Any, Any]):
    async def json(self) -> Any:
        if self._json is not Empty:
            return self._json
        try:
            value = await super().json()  # malformed JSON fails here, as before
        except RecursionError:  # msgspec refuses deep nesting this way
            raise self._refusal(TOO_DEEP) from None
        data = self.route_handler.parsed_fn_signature.parameters.get("data")
        if data is None or value is None:
            return value
        try:
            converted = msgspec.convert(value, data.annotation, strict=True, str_keys=True)
        except (msgspec.ValidationError, RecursionError) as exc:
            raise self._refusal(TOO_DEEP if isinstance(exc, RecursionError) else str(exc)) from None
        self._json = self._connection_state.json = converted
        return converted

    def _refusal(self, message: str) -> ValidationException:
        at = _AT_PATH.search(message)
        key = (at.group(1) or "data") if at else "data"
        return ValidationException(
            detail=f"Validation failed for {self.method} {self.url.path}",
            extra=[{"message": message[: at.start()] if at else message, "key": key}],
        )
