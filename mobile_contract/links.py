"""Invitation links and user codes: how they are built and how the app parses them.

- Universal link: `{PUBLIC_BASE_URL}/i/{token}` (this is what a QR code encodes).
- App link: `{APP_SCHEME}://invite?token={token}`.
- User code: 8 letters from `USER_CODE_ALPHABET`, shown as `XXXX-XXXX`; typing ignores
  case, spaces and dashes.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
# JWS compact serialisation: three base64url segments.
TOKEN_PATTERN = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\Z"
TOKEN_MAX_LENGTH = 1024
# A `token` field takes any string up to this length: whatever is not a token this
# service issued is then `token_invalid`, not a validation error.
TOKEN_FIELD_MAX_LENGTH = 4096
_TOKEN_RE = re.compile(TOKEN_PATTERN)
_USER_CODE_RE = re.compile(f"^[{USER_CODE_ALPHABET}]{{{USER_CODE_LENGTH}}}\\Z")


def universal_link(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/i/{token}"


def app_link(scheme: str, token: str) -> str:
    return f"{scheme}://invite?token={token}"


def qr_image_url(base_url: str, token: str, fmt: str) -> str:
    """URL of the QR image (`svg` or `png`) of a token's universal link."""
    return f"{universal_link(base_url, token)}/qr.{fmt}"


def is_token(value: str) -> bool:
    """Whether `value` has the shape of an invitation token (not whether it is valid)."""
    return len(value) <= TOKEN_MAX_LENGTH and _TOKEN_RE.match(value) is not None


def parse_link(value: str, *, base_url: str, scheme: str) -> str | None:
    """The token in a universal or app link, or None if `value` is not one of ours.

    A universal link must start with this deployment's `base_url` (so a look-alike host
    is refused); an app link must use `scheme`. Trailing `/qr.png` etc. are not links.
    """
    value = value.strip()
    prefix = f"{base_url.rstrip('/')}/i/"
    if value.startswith(prefix):
        token = value[len(prefix) :].split("?", 1)[0].split("#", 1)[0]
        return token if is_token(token) else None
    parts = urlsplit(value)
    if (
        parts.scheme.lower() == scheme.lower()
        and parts.netloc == "invite"
        and parts.path
        in (
            "",
            "/",
        )
    ):
        tokens = parse_qs(parts.query).get("token", [])
        if len(tokens) == 1 and is_token(tokens[0]):
            return tokens[0]
    return None


def normalize_user_code(typed: str) -> str | None:
    """The canonical 8-letter code for what a user typed, or None if it cannot be one."""
    code = "".join(ch for ch in typed if ch not in " -\t").upper()
    return code if _USER_CODE_RE.match(code) else None


def format_user_code(code: str) -> str:
    """`BCDFGHJK` -> `BCDF-GHJK`, the way it is shown."""
    return f"{code[:4]}-{code[4:]}"
