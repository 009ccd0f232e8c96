"""The parameters a route handler declares, by the names clients use (`status`, not the
handler's `status_filter`; `Idempotency-Key`, not `idempotency_key`), read from
Litestar's own parameter model of the handler."""

from __future__ import annotations

from typing import NamedTuple

from litestar._kwargs.parameter_definition import ParameterDefinition
from litestar.handlers import HTTPRouteHandler


class Declared(NamedTuple):
    query: frozenset[str]  # names in the query string
    aliases: dict[str, str]  # the handler's name -> the client's name


_declared: dict[HTTPRouteHandler, Declared] = {}


def declared(handler: HTTPRouteHandler, path_parameters: set[str]) -> Declared:
    found = _declared.get(handler)
    if found is None:
        model = handler.create_kwargs_model(
            path_parameters=dict.fromkeys(path_parameters)  # type: ignore[arg-type]
        )
        params: set[ParameterDefinition] = (
            model.expected_query_params
            | model.expected_header_params
            | model.expected_path_params
            | model.expected_cookie_params
        )
        found = Declared(
            query=frozenset(p.field_alias for p in model.expected_query_params),
            aliases={p.field_name: p.field_alias for p in params},
        )
        _declared[handler] = found
    return found
