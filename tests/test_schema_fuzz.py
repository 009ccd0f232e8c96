"""Schemathesis against a live server: every operation of the served schema, signed in;
no 5xx, and every answer matches what the schema says (status, content type, headers,
body), and schema-invalid requests are refused.

One built-in check is left out: `positive_data_acceptance` expects every schema-valid
request to succeed, but tokens, user codes and cursors are opaque strings that are
schema-valid in shape and still rejected (400 token_invalid / validation_failed) unless
this server issued them."""

from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from tests.conftest import LiveServer
from tests.support import Api

EXAMPLES_PER_OPERATION = 15


def test_every_operation_answers_as_documented(api: Api, live_server: LiveServer) -> None:
    schema = schemathesis.openapi.from_url(f"{live_server.base_url}/schema/openapi.json")
    headers = api.user("fuzzer").headers
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()
