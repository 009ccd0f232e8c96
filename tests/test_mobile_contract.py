"""`mobile_contract`: example bodies decode, links and user codes parse as documented."""

import json
from pathlib import Path

import msgspec
import pytest

from mobile_contract import ErrorCode, models
from mobile_contract.errors import STATUS, TITLES
from mobile_contract.links import (
    app_link,
    format_user_code,
    normalize_user_code,
    parse_link,
    universal_link,
)

EXAMPLES = Path(__file__).parent.parent / "mobile_contract" / "examples"
TYPES = {
    "preview.request": models.GrantRequest,
    "preview_by_code.request": models.GrantRequest,
    "preview.response": models.Preview,
    "preview_registration_link.response": models.Preview,
    "confirm_existing_business.request": models.ConfirmRequest,
    "confirm_new_business.request": models.ConfirmRequest,
    "confirm.response": models.Confirmation,
    "decline.request": models.GrantRequest,
    "error_superseded.response": models.Problem,
    "error_validation.response": models.Problem,
    "error_already_accepted.response": models.Problem,
    "error_user_code_expired.response": models.Problem,
    "error_user_code_malformed.response": models.Problem,
}


def test_every_example_is_listed() -> None:
    assert {p.name.removesuffix(".json") for p in EXAMPLES.glob("*.json")} == set(TYPES)


@pytest.mark.parametrize("name", sorted(TYPES))
def test_examples_decode_strictly(name: str) -> None:
    raw = (EXAMPLES / f"{name}.json").read_bytes()
    decoded = msgspec.json.decode(raw, type=TYPES[name], strict=True)
    if name.endswith(".response"):  # a response example shows every field the server sends
        assert json.loads(msgspec.json.encode(decoded)) == json.loads(raw)


def test_every_error_code_has_a_status_and_title() -> None:
    assert set(STATUS) == set(ErrorCode) == set(TITLES)


TOKEN = "aaa.bbb.ccc"
BASE = "https://invites.banqup.example"


def test_links_round_trip() -> None:
    assert parse_link(universal_link(BASE, TOKEN), base_url=BASE, scheme="banqupone") == TOKEN
    assert parse_link(app_link("banqupone", TOKEN), base_url=BASE, scheme="banqupone") == TOKEN
    assert parse_link(f"{BASE}/i/{TOKEN}?utm=x", base_url=BASE, scheme="banqupone") == TOKEN


@pytest.mark.parametrize(
    "value",
    [
        "https://invites.banqup.example.evil.com/i/aaa.bbb.ccc",
        "https://evil.example/i/aaa.bbb.ccc",
        "otherapp://invite?token=aaa.bbb.ccc",
        "banqupone://invite?token=aaa.bbb.ccc&token=x.y.z",
        "banqupone://invite/extra?token=aaa.bbb.ccc",
        "https://invites.banqup.example/i/not-a-token",
        "https://invites.banqup.example/i/aaa.bbb.ccc/qr.png",
        "",
    ],
)
def test_links_of_others_are_refused(value: str) -> None:
    assert parse_link(value, base_url=BASE, scheme="banqupone") is None


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("BCDF-GHJK", "BCDFGHJK"),
        ("bcdf-ghjk", "BCDFGHJK"),
        ("  bcdfghjk ", "BCDFGHJK"),
        ("B C D F G H J K", "BCDFGHJK"),
        ("BCDF--GHJK", "BCDFGHJK"),
        ("BCDF-GHJA", None),  # vowels are never used
        ("BCDF-GHJ", None),
        ("BCDF-GHJKL", None),
        ("", None),
    ],
)
def test_user_code_normalisation(typed: str, code: str | None) -> None:
    assert normalize_user_code(typed) == code


def test_user_code_format() -> None:
    assert format_user_code("BCDFGHJK") == "BCDF-GHJK"
