"""The HTTP contract as code: bodies, error codes and link formats shared with the apps."""

from mobile_contract.errors import STATUS, TITLES, ErrorCode, problem_type
from mobile_contract.events import EventType
from mobile_contract.links import (
    app_link,
    format_user_code,
    normalize_user_code,
    parse_link,
    universal_link,
)

__all__ = [
    "STATUS",
    "TITLES",
    "ErrorCode",
    "EventType",
    "app_link",
    "format_user_code",
    "normalize_user_code",
    "parse_link",
    "problem_type",
    "universal_link",
]
