"""Validation messages in words, about the field as the API spells it.

msgspec and Litestar say what failed in a programmer's terms ("Expected `str` matching
regex '^[^@\\s…'"); a person filling in a form needs "not a valid email address". Each
message is rewritten here once, for request bodies, query parameters and import rows
alike; `mobile_contract.errors.PHRASES` translates the results.
"""

from __future__ import annotations

import re

import msgspec

from mobile_contract.errors import EVENT_TYPES_MESSAGE
from mobile_contract.models import FieldError

# What a value of a field with a pattern must look like, by the field's name.
FORMATS = {
    "email": "not a valid email address",
    "vat_number": "not a valid VAT number (letters, digits, spaces, dots and dashes)",
    "name": "must be one line of text",
    "label": "must be one line of text",
    "external_ref": "must be one line of text",
    "message": "must not contain control characters",
    "country": "must be a two-letter country code such as BE",
    "token": "not an invitation token",
    "Idempotency-Key": "must be 1 to 255 printable ASCII characters",
    "after": "not a cursor returned by this endpoint, nor `latest`",
    "url": "must be a web address (https://…)",
}
CHOICES = {
    "language": "must be one of en, nl, fr, de",
    "access_level": "must be full or read_only",
    "status": "must be enabled or disabled",
    "event_types": EVENT_TYPES_MESSAGE,
    "sort": "must be one of created, -created, name, -name, invited_at, -invited_at, expires_at",
    "lang": "must be one of en, nl, fr, de",
}
TYPES = {
    "str": "must be text",
    "int": "must be a whole number",
    "float": "must be a number",
    "bool": "must be true or false",
    "array": "must be a list",
    "object": "must be an object",
    "uuid": "must be an id (UUID)",
    "null": "must be null",
}

_AT = re.compile(r"\s*- at `\$(?:\.(?P<path>[^`]*))?`$")
_MISSING = re.compile(r"missing required field `([^`]+)`")
_UNKNOWN = re.compile(r"unknown field `([^`]+)`")
_LENGTH = re.compile(r"Expected `(str|array|object)` of (?:length|size) (>=|<=) (\d+)")
_BOUND = re.compile(r"Expected `(?:int|float)` (>=|<=|>|<) (-?[\d.]+)")
_TYPE = re.compile(r"Expected `([a-z]+)(?: \| [a-z]+)*`, got `")


def leaf(field: str) -> str:
    """`clients[3].email` -> `email`."""
    return re.sub(r"\[\d+\]", "", field).rsplit(".", 1)[-1]


def in_words(field: str, message: str) -> tuple[str, str]:
    """(field, message) with the message in words; a missing or unknown field names the
    field itself."""
    message = _AT.sub("", message)
    # Litestar (2.x) says a body that is not there at all by the missing argument's name.
    if message == "'data'":
        return field, "is required: a JSON object"
    if message.startswith(("Input data was truncated", "JSON is malformed")):
        return field, "is not valid JSON"
    if message.startswith("Number out of range"):
        return field, "has a number out of range"
    if named := _MISSING.search(message):
        return _join(field, named.group(1)), "is required"
    if named := _UNKNOWN.search(message):
        return _join(field, named.group(1)), "is not a field of this request"
    name = leaf(field)
    if "regex" in message or "pattern" in message:
        return field, FORMATS.get(name, "is not in the form this field takes")
    if "Invalid enum value" in message or "Invalid value" in message:
        return field, CHOICES.get(name, "is not one of the values this field takes")
    if length := _LENGTH.search(message):
        kind, op, n = length.groups()
        if op == ">=" and n == "1":
            return field, "must not be empty"
        unit = "characters" if kind == "str" else "items"
        return field, f"must have {'at least' if op == '>=' else 'at most'} {n} {unit}"
    if bound := _BOUND.search(message):
        op, n = bound.groups()
        words = {">=": "at least", "<=": "at most", ">": "more than", "<": "less than"}[op]
        return field, f"must be {words} {n}"
    if "RFC3339" in message or "datetime" in message:
        return field, "must be a date and time such as 2027-01-31T23:59:59Z"
    if "UUID" in message:
        return field, TYPES["uuid"]
    if kind := _TYPE.search(message):
        return field, TYPES.get(kind.group(1), "has the wrong type")
    return field, message


def _join(parent: str, child: str) -> str:
    return child if parent in ("", "body") else f"{parent}.{child}"


def from_msgspec(exc: msgspec.ValidationError) -> FieldError:
    """The field error a msgspec ValidationError (of a body or a row) describes."""
    text = str(exc)
    at = _AT.search(text)
    field = (at.group("path") or "") if at else ""
    field, message = in_words(field or "body", _AT.sub("", text))
    return FieldError(field=field, message=message)
