"""Property-based checks (hypothesis) of the parsing and decoding the app and API rely on."""

import contextlib
import string

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from mobile_contract import models
from mobile_contract.links import (
    USER_CODE_ALPHABET,
    app_link,
    format_user_code,
    is_token,
    normalize_user_code,
    parse_link,
    universal_link,
)

BASE = "https://invites.banqup.example"
B64 = string.ascii_letters + string.digits + "-_"
segments = st.text(alphabet=B64, min_size=1, max_size=120)
tokens = st.builds(lambda a, b, c: f"{a}.{b}.{c}", segments, segments, segments)
codes = st.text(alphabet=USER_CODE_ALPHABET, min_size=8, max_size=8)


@given(tokens)
def test_links_round_trip(token: str) -> None:
    assert parse_link(universal_link(BASE, token), base_url=BASE, scheme="banqupone") == token
    assert parse_link(app_link("banqupone", token), base_url=BASE, scheme="banqupone") == token


@given(st.text(max_size=400))
def test_parse_link_never_fails_and_only_returns_tokens(value: str) -> None:
    token = parse_link(value, base_url=BASE, scheme="banqupone")
    assert token is None or is_token(token)


@given(
    codes, st.lists(st.sampled_from([" ", "-", "\t", ""]), min_size=8, max_size=8), st.booleans()
)
def test_any_way_of_typing_a_code_normalises(code: str, separators: list[str], lower: bool) -> None:
    typed = "".join(ch + sep for ch, sep in zip(code, separators, strict=True))
    typed = typed.lower() if lower else typed
    assert normalize_user_code(typed) == code
    assert normalize_user_code(format_user_code(code)) == code


@given(st.text(max_size=40))
def test_normalise_returns_a_code_or_none(typed: str) -> None:
    code = normalize_user_code(typed)
    assert code is None or (len(code) == 8 and set(code) <= set(USER_CODE_ALPHABET))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.dictionaries(
    st.sampled_from(["token", "user_code", "business_id", "new_business", "name", "email", "x"]),
    json_values,
    max_size=4,
)


@settings(max_examples=300)
@given(bodies)
def test_request_decoding_fails_only_with_validation_errors(body: dict) -> None:  # type: ignore[type-arg]
    raw = msgspec.json.encode(body)
    for kind in (
        models.ConfirmRequest,
        models.GrantRequest,
        models.ClientCreate,
        models.InviteRequest,
    ):
        with contextlib.suppress(msgspec.ValidationError):  # a clear 400, anything else fails
            msgspec.json.decode(raw, type=kind)


@given(st.text(min_size=1, max_size=50), st.sampled_from(["\r", "\n", "\r\n", "\x00", "\x1b"]))
def test_no_line_breaks_or_controls_get_into_names_or_emails(text: str, control: str) -> None:
    """Header injection: names and addresses end up in email headers."""
    for field, value in (
        ("name", text + control + "Bcc: x@evil.example"),
        ("email", f"a{control}@b.example"),
    ):
        body = {"name": "Valid", field: value}
        try:
            msgspec.convert(body, models.ClientCreate)
        except msgspec.ValidationError:
            continue
        raise AssertionError(f"{field} {value!r} was accepted")
