"""Settings, read once from the environment into a frozen Struct.

Each setting is declared once, below: its type, its bounds (as `Meta`, whose
`description` is what the operator is told when a value is out of them) and its
default. `load_settings` takes `NAME_IN_CAPITALS` from the environment for each field
(comma-separated for lists), converts with msgspec, then checks what types cannot say.
Bad configuration raises `ConfigError` with one line saying what to fix; the CLI prints
that line and exits.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import msgspec
from msgspec import Meta

from db.url import DEFAULT_DATABASE_URL, DatabaseURLError, check_database_url


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line for the operator."""


def _range(kind: str, low: float, high: float) -> Meta:
    return Meta(ge=low, le=high, description=f"{kind} between {low} and {high}")


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = DEFAULT_DATABASE_URL
    database_pool_size: Annotated[int, _range("a whole number", 1, 200)] = 10
    public_base_url: str = "http://127.0.0.1:8000"
    app_scheme: Annotated[str, Meta(pattern=r"^[A-Za-z]+\Z", description="letters only")] = (
        "banqupone"
    )
    auth_issuer: str = "banqup-dev"
    auth_audience: str = "invites-api"
    app_env: Annotated[Literal["dev", "prod"], Meta(description="dev or prod")] = "dev"
    auth_hs256_secret: (
        Annotated[str, Meta(min_length=32, description="at least 32 characters")] | None
    ) = None
    auth_jwks_url: str | None = None
    invite_signing_key_file: str = "var/invite-signing-key.pem"
    invite_previous_key_files: tuple[str, ...] = ()
    invitation_ttl_days: Annotated[
        float,
        Meta(
            gt=0, le=365, description="a number of days above 0 and at most 365 (0.01 is 14.4 min)"
        ),
    ] = 14
    mail_url: Annotated[
        str, Meta(pattern=r"^(smtps?|file)://", description="smtp://, smtps:// or file://…")
    ] = "file://var/mail"
    mail_from: str = "Banqup <no-reply@banqup.localhost>"
    mail_max_attempts: Annotated[int, _range("a whole number", 1, 100)] = 8
    mail_retry_base_seconds: Annotated[float, _range("a number", 0.01, 3600)] = 10.0
    cors_origins: tuple[str, ...] = ()
    apple_app_ids: tuple[str, ...] = ()
    android_package: str | None = None
    android_cert_sha256: tuple[str, ...] = ()
    var_dir: str = "var"

    @property
    def database_kind(self) -> str:
        return check_database_url(self.database_url)


def _fields() -> dict[str, msgspec.inspect.Field]:
    info = msgspec.inspect.type_info(Settings)
    assert isinstance(info, msgspec.inspect.StructType)
    return {field.name: field for field in info.fields}


_FIELDS = _fields()


def _from_environment(env: Mapping[str, str]) -> dict[str, Any]:
    """The settings the environment gives (an empty value counts as unset)."""
    raw: dict[str, Any] = {}
    for name, field in _FIELDS.items():
        value = env.get(name.upper())
        if not value:
            continue
        if isinstance(field.type, msgspec.inspect.VarTupleType):
            raw[name] = [item.strip() for item in value.split(",") if item.strip()]
        else:
            raw[name] = value
    return raw


def _explain(error: msgspec.ValidationError) -> str:
    """One line for the operator about the setting msgspec refused."""
    message, _, where = str(error).rpartition(" - at `$.")
    name = where.rstrip("`").split(".")[0].split("[")[0]
    field_type = _FIELDS[name].type
    if isinstance(field_type, msgspec.inspect.UnionType):
        field_type = field_type.types[0]
    described = getattr(field_type, "extra_json_schema", None) or {}
    if "description" in described:
        return f"{name.upper()} must be {described['description']}"
    return f"{name.upper()}: {message}"


def _origin(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError(f"{name} must be an http(s) origin like https://invites.example.com")
    return value.rstrip("/")


def _sender(value: str) -> str:
    _, address = parseaddr(value)
    if "@" not in address or any(c in value for c in "\r\n"):
        raise ConfigError(
            f"MAIL_FROM must be an address like 'Banqup <no-reply@example.com>', not {value!r}"
        )
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raise ConfigError on the first bad one."""
    try:
        settings = msgspec.convert(
            _from_environment(os.environ if env is None else env), Settings, strict=False
        )
        check_database_url(settings.database_url)
    except msgspec.ValidationError as exc:
        raise ConfigError(_explain(exc)) from None
    except DatabaseURLError as exc:
        raise ConfigError(str(exc)) from None
    if settings.app_env == "prod":
        if not settings.auth_jwks_url and not settings.auth_hs256_secret:
            raise ConfigError("APP_ENV=prod needs AUTH_JWKS_URL (or an explicit AUTH_HS256_SECRET)")
        if not Path(settings.invite_signing_key_file).is_file():
            raise ConfigError(
                "APP_ENV=prod needs an existing INVITE_SIGNING_KEY_FILE"
                f" ({settings.invite_signing_key_file})"
            )
    return msgspec.structs.replace(
        settings,
        public_base_url=_origin("PUBLIC_BASE_URL", settings.public_base_url),
        mail_from=_sender(settings.mail_from),
        cors_origins=tuple(_origin("CORS_ORIGINS", o) for o in settings.cors_origins),
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
