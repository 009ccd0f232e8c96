"""Settings, read once from the environment into a frozen Struct.

Bad configuration raises `ConfigError` with one line saying what to fix; the CLI prints
that line and exits.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Literal, TypeVar
from urllib.parse import urlsplit

import msgspec

from db.url import DEFAULT_DATABASE_URL, DatabaseURLError, check_database_url, configured_url

N = TypeVar("N", int, float)


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line for the operator."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = DEFAULT_DATABASE_URL
    database_pool_size: int = 10
    public_base_url: str = "http://127.0.0.1:8000"
    app_scheme: str = "banqupone"
    auth_issuer: str = "banqup-dev"
    auth_audience: str = "invites-api"
    app_env: Literal["dev", "prod"] = "dev"
    auth_hs256_secret: str | None = None
    auth_jwks_url: str | None = None
    invite_signing_key_file: str = "var/invite-signing-key.pem"
    invite_previous_key_files: tuple[str, ...] = ()
    invitation_ttl_days: int = 14
    mail_url: str = "file://var/mail"
    mail_from: str = "Banqup <no-reply@banqup.localhost>"
    mail_max_attempts: int = 8
    mail_retry_base_seconds: float = 10.0
    cors_origins: tuple[str, ...] = ()
    apple_app_ids: tuple[str, ...] = ()
    android_package: str | None = None
    android_cert_sha256: tuple[str, ...] = ()
    var_dir: str = "var"

    @property
    def database_kind(self) -> str:
        return check_database_url(self.database_url)


def _list(value: str | None) -> tuple[str, ...]:
    return tuple(item.strip() for item in (value or "").split(",") if item.strip())


def _origin(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"{name} must be an http(s) origin like https://invites.example.com")
    return value.rstrip("/")


def _number(name: str, text: str | None, default: N, kind: type[N], low: N, high: N) -> N:
    if not text:
        return default
    try:
        value = kind(text)  # type: ignore[call-arg]
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {text!r}") from None
    if not low <= value <= high:  # type: ignore[operator]
        raise ConfigError(f"{name} must be between {low} and {high}")
    return value


def _sender(value: str) -> str:
    _, address = parseaddr(value)
    if "@" not in address or any(c in value for c in "\r\n"):
        raise ConfigError(
            f"MAIL_FROM must be an address like 'Banqup <no-reply@example.com>', not {value!r}"
        )
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raise ConfigError on the first bad one."""
    env = os.environ if env is None else env
    get = env.get
    database_url = configured_url(env)
    try:
        check_database_url(database_url)
    except DatabaseURLError as exc:
        raise ConfigError(str(exc)) from None
    app_env = get("APP_ENV") or "dev"
    if app_env not in ("dev", "prod"):
        raise ConfigError(f"APP_ENV must be dev or prod, not {app_env!r}")
    scheme = get("APP_SCHEME") or "banqupone"
    if not scheme.isascii() or not scheme.isalpha():
        raise ConfigError(f"APP_SCHEME must be letters only, not {scheme!r}")
    ttl_days = _number("INVITATION_TTL_DAYS", get("INVITATION_TTL_DAYS"), 14, int, 1, 365)
    mail_url = get("MAIL_URL") or "file://var/mail"
    if urlsplit(mail_url).scheme not in ("smtp", "smtps", "file"):
        raise ConfigError(f"MAIL_URL must be smtp://, smtps:// or file://, not {mail_url!r}")
    jwks_url = get("AUTH_JWKS_URL") or None
    hs256_secret = get("AUTH_HS256_SECRET") or None
    if hs256_secret is not None and len(hs256_secret) < 32:
        raise ConfigError("AUTH_HS256_SECRET must be at least 32 characters")
    key_file = get("INVITE_SIGNING_KEY_FILE") or "var/invite-signing-key.pem"
    if app_env == "prod":
        if not jwks_url and not hs256_secret:
            raise ConfigError("APP_ENV=prod needs AUTH_JWKS_URL (or an explicit AUTH_HS256_SECRET)")
        if not Path(key_file).is_file():
            raise ConfigError(
                f"APP_ENV=prod needs an existing INVITE_SIGNING_KEY_FILE ({key_file})"
            )
    return Settings(
        database_url=database_url,
        public_base_url=_origin(
            "PUBLIC_BASE_URL", get("PUBLIC_BASE_URL") or "http://127.0.0.1:8000"
        ),
        app_scheme=scheme,
        auth_issuer=get("AUTH_ISSUER") or "banqup-dev",
        auth_audience=get("AUTH_AUDIENCE") or "invites-api",
        app_env=app_env,  # type: ignore[arg-type]
        auth_hs256_secret=hs256_secret,
        auth_jwks_url=jwks_url,
        invite_signing_key_file=key_file,
        invite_previous_key_files=_list(get("INVITE_PREVIOUS_KEY_FILES")),
        invitation_ttl_days=ttl_days,
        mail_url=mail_url,
        mail_from=_sender(get("MAIL_FROM") or "Banqup <no-reply@banqup.localhost>"),
        mail_max_attempts=_number("MAIL_MAX_ATTEMPTS", get("MAIL_MAX_ATTEMPTS"), 8, int, 1, 100),
        database_pool_size=_number(
            "DATABASE_POOL_SIZE", get("DATABASE_POOL_SIZE"), 10, int, 1, 200
        ),
        mail_retry_base_seconds=_number(
            "MAIL_RETRY_BASE_SECONDS", get("MAIL_RETRY_BASE_SECONDS"), 10.0, float, 0.01, 3600
        ),
        cors_origins=tuple(_origin("CORS_ORIGINS", o) for o in _list(get("CORS_ORIGINS"))),
        apple_app_ids=_list(get("APPLE_APP_IDS")),
        android_package=get("ANDROID_PACKAGE") or None,
        android_cert_sha256=_list(get("ANDROID_CERT_SHA256")),
        var_dir=get("VAR_DIR") or "var",
    )


def dev_hs256_secret(settings: Settings) -> str:
    """The HS256 secret of the development identity provider.

    In `dev` without AUTH_HS256_SECRET it is generated once into `var/` so that
    `python -m api token` and the server agree without any setup.
    """
    if settings.auth_hs256_secret:
        return settings.auth_hs256_secret
    if settings.app_env != "dev":
        raise ConfigError("AUTH_HS256_SECRET is not set")
    path = Path(settings.var_dir) / "dev-auth-secret"
    try:
        if path.is_file():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        secret = secrets.token_urlsafe(48)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secret)
        return secret
    except FileExistsError:
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read or create {path}: {exc.strerror}") from None
