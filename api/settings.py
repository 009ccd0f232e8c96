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
from ipaddress import ip_network
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
    invitation_reminder_days: Annotated[
        tuple[Annotated[float, Meta(gt=0)], ...],
        Meta(max_length=2, description="at most two positive numbers of days, like 3,10"),
    ] = (3.0, 10.0)
    sweep_seconds: Annotated[float, _range("a number", 0.1, 3600)] = 30.0
    mail_url: Annotated[
        str, Meta(pattern=r"^(smtps?|file)://", description="smtp://, smtps:// or file://…")
    ] = "file://var/mail"
    mail_from: str = "Banqup <no-reply@banqup.localhost>"
    mail_max_attempts: Annotated[int, _range("a whole number", 1, 100)] = 8
    mail_retry_base_seconds: Annotated[float, _range("a number", 0.01, 3600)] = 10.0
    # How long a claimed email is held by the process sending it; after a crash it is
    # sent again (by any process) once this has passed.
    mail_lease_seconds: Annotated[float, _range("a number", 1, 3600)] = 120.0
    webhook_retry_base_seconds: Annotated[float, _range("a number", 0.01, 3600)] = 5.0
    webhook_disable_after_hours: Annotated[float, _range("a number", 0.01, 8760)] = 72.0
    # Unset: allowed in dev (local receivers), refused in prod.
    webhook_allow_private: bool | None = None
    webhook_secret_key: (
        Annotated[str, Meta(min_length=32, description="at least 32 characters")] | None
    ) = None
    cors_origins: tuple[str, ...] = ()
    apple_app_ids: tuple[str, ...] = ()
    android_package: str | None = None
    android_cert_sha256: tuple[str, ...] = ()
    var_dir: str = "var"
    # Settled outbox rows older than this are deleted (the invitation and its events keep
    # the delivery record).
    mail_keep_days: Annotated[int, _range("a whole number", 1, 3650)] = 30
    metrics_token: (
        Annotated[str, Meta(min_length=16, description="at least 16 characters")] | None
    ) = None
    # Invitation emails a partner may queue a (UTC) day; fewer in its first week.
    invites_per_partner_per_day: Annotated[int, _range("a whole number", 1, 10_000_000)] = 5000
    invites_per_new_partner_per_day: Annotated[int, _range("a whole number", 1, 10_000_000)] = 200
    # Typed codes checked per 10 minutes from one client address, and from everyone (a
    # user has 5, fixed by the contract). Behind a proxy every address is the proxy's,
    # unless the proxy is named in TRUSTED_PROXIES.
    user_code_attempts_per_address: Annotated[int, _range("a whole number", 5, 1_000_000)] = 50
    user_code_attempts_overall: Annotated[int, _range("a whole number", 5, 10_000_000)] = 2000
    # Addresses or networks of the proxies in front; a request from one of them comes
    # from the address it forwarded in X-Forwarded-For (api.addresses). Unset: the header
    # is not read.
    trusted_proxies: tuple[str, ...] = ()
    # Long-polls (`events?wait=`) held at once; beyond a cap, 429 at once.
    longpolls_per_user: Annotated[int, _range("a whole number", 1, 10_000)] = 10
    longpolls_per_partner: Annotated[int, _range("a whole number", 1, 10_000)] = 50
    longpolls_per_process: Annotated[int, _range("a whole number", 1, 100_000)] = 500
    # A request body must arrive within this many seconds, plus one second for every
    # BODY_MIN_BYTES_PER_SECOND bytes received (api.routes.bodies).
    body_read_seconds: Annotated[float, _range("a number", 0.1, 300)] = 10.0
    body_min_bytes_per_second: Annotated[int, _range("a whole number", 100, 10_000_000)] = 16_384
    log_format: Annotated[Literal["json", "text"], Meta(description="json or text")] | None = (
        None  # json in prod, text in dev
    )

    @property
    def logs_as_json(self) -> bool:
        return (self.log_format or ("json" if self.app_env == "prod" else "text")) == "json"

    @property
    def webhooks_may_reach_private(self) -> bool:
        """Whether webhook URLs may be `http://` or reach non-public addresses."""
        if self.webhook_allow_private is None:
            return self.app_env == "dev"
        return self.webhook_allow_private


def _fields() -> dict[str, msgspec.inspect.Field]:
    info = msgspec.inspect.type_info(Settings)
    assert isinstance(info, msgspec.inspect.StructType)
    return {field.name: field for field in info.fields}


_FIELDS = _fields()


def _from_environment(env: Mapping[str, str]) -> dict[str, Any]:
    """The settings the environment gives (an empty value counts as unset, except for a
    list, where it is the empty list)."""
    raw: dict[str, Any] = {}
    for name, field in _FIELDS.items():
        value = env.get(name.upper())
        if value is None:
            continue
        if _is_list(field.type):  # an empty value is an empty list
            raw[name] = [item.strip() for item in value.split(",") if item.strip()]
        elif value:
            raw[name] = value
    return raw


def _is_list(kind: msgspec.inspect.Type) -> bool:
    if isinstance(kind, msgspec.inspect.Metadata):
        kind = kind.type
    return isinstance(kind, msgspec.inspect.VarTupleType)


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


def _network(value: str) -> str:
    try:
        network = ip_network(value)  # strict: 10.0.0.5/8 is a typo, not 10.0.0.0/8
    except ValueError:
        raise ConfigError(
            f"TRUSTED_PROXIES must be the proxies' addresses or networks like 10.1.2.0/24,"
            f" not {value!r}"
        ) from None
    if network.prefixlen == 0:
        raise ConfigError(f"TRUSTED_PROXIES must name the proxies, not every address ({value})")
    return str(network)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and check every setting; raise ConfigError on the first bad one."""
    given = _from_environment(os.environ if env is None else env)
    try:
        settings = msgspec.convert(given, Settings, strict=False)
        check_database_url(settings.database_url)
    except msgspec.ValidationError as exc:
        raise ConfigError(_explain(exc)) from None
    except DatabaseURLError as exc:
        raise ConfigError(str(exc)) from None
    days = settings.invitation_reminder_days
    ttl = settings.invitation_ttl_days
    if "invitation_reminder_days" not in given:  # the default: what fits the lifetime
        days = tuple(day for day in days if day < ttl)
    elif list(days) != sorted(set(days)) or any(day >= ttl for day in days):
        raise ConfigError(
            "INVITATION_REMINDER_DAYS must increase and stay below INVITATION_TTL_DAYS"
        )
    if settings.app_env == "prod":
        if not settings.auth_jwks_url and not settings.auth_hs256_secret:
            raise ConfigError("APP_ENV=prod needs AUTH_JWKS_URL (or an explicit AUTH_HS256_SECRET)")
        if not Path(settings.invite_signing_key_file).is_file():
            raise ConfigError(
                "APP_ENV=prod needs an existing INVITE_SIGNING_KEY_FILE"
                f" ({settings.invite_signing_key_file})"
            )
        if not settings.webhook_secret_key:
            raise ConfigError("APP_ENV=prod needs WEBHOOK_SECRET_KEY (at least 32 characters)")
    return msgspec.structs.replace(
        settings,
        invitation_reminder_days=days,
        public_base_url=_origin("PUBLIC_BASE_URL", settings.public_base_url),
        mail_from=_sender(settings.mail_from),
        cors_origins=tuple(_origin("CORS_ORIGINS", o) for o in settings.cors_origins),
        trusted_proxies=tuple(_network(entry) for entry in settings.trusted_proxies),
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
    return _dev_secret(settings, "dev-auth-secret")


def webhook_secret_key(settings: Settings) -> str:
    """The key that encrypts webhook secrets at rest: WEBHOOK_SECRET_KEY, or in `dev` one
    generated once into `var/` (prod refuses to start without it)."""
    if settings.webhook_secret_key:
        return settings.webhook_secret_key
    if settings.app_env != "dev":
        raise ConfigError("WEBHOOK_SECRET_KEY is not set")
    return _dev_secret(settings, "dev-webhook-secret-key")


def _dev_secret(settings: Settings, name: str) -> str:
    """A random secret kept in `VAR_DIR/name`, made on first use."""
    path = Path(settings.var_dir) / name
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
