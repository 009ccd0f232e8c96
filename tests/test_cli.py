"""The command line: clear one-line errors on bad configuration; tokens that work."""

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).parent.parent


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ) | env
    return subprocess.run(
        [sys.executable, "-m", "api", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql://db/invites"}, "DATABASE_URL: unknown scheme 'mysql'"),
        ({"DATABASE_URL": "sqlite:///:memory:"}, "in-memory SQLite is not supported"),
        (
            {"INVITATION_TTL_DAYS": "two weeks"},
            "INVITATION_TTL_DAYS must be a number of days above 0 and at most 365",
        ),
        (
            {"INVITATION_TTL_DAYS": "0"},
            "INVITATION_TTL_DAYS must be a number of days above 0 and at most 365",
        ),
        ({"MAIL_URL": "http://mail"}, "MAIL_URL must be smtp://, smtps:// or file://"),
        ({"PUBLIC_BASE_URL": "invites.example.com"}, "PUBLIC_BASE_URL must be an http(s) origin"),
        ({"APP_ENV": "staging"}, "APP_ENV must be dev or prod"),
        ({"AUTH_HS256_SECRET": "short"}, "AUTH_HS256_SECRET must be at least 32 characters"),
        (
            {"TRUSTED_PROXIES": "10.1.2.0/24, proxy.internal"},
            "TRUSTED_PROXIES must be the proxies' addresses or networks like 10.1.2.0/24,"
            " not 'proxy.internal'",
        ),
        (
            {"TRUSTED_PROXIES": "10.1.2.5/24"},  # a typo: host bits set
            "TRUSTED_PROXIES must be the proxies' addresses or networks like 10.1.2.0/24,"
            " not '10.1.2.5/24'",
        ),
        (
            {"TRUSTED_PROXIES": "::/0"},
            "TRUSTED_PROXIES must name the proxies, not every address (::/0)",
        ),
        (
            {
                "INVITE_SIGNING_KEY_FILE": "/nonexistent/dir/key.pem",
                "APP_ENV": "prod",
                "AUTH_JWKS_URL": "https://idp.example/jwks",
            },
            "APP_ENV=prod needs an existing INVITE_SIGNING_KEY_FILE",
        ),
        ({"APP_ENV": "prod", "AUTH_HS256_SECRET": ""}, "APP_ENV=prod needs AUTH_JWKS_URL"),
    ],
)
def test_bad_configuration_is_one_clear_line(env: dict[str, str], message: str) -> None:
    result = run("migrate", **env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("error: ") and message in result.stderr


def test_an_unreadable_key_file_is_one_clear_line(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    key.write_text("not a key")
    result = run("migrate", INVITE_SIGNING_KEY_FILE=str(key))
    assert result.returncode == 2
    assert result.stderr == f"error: INVITE_SIGNING_KEY_FILE {key}: not a PEM private key\n"


def test_an_unreachable_database_is_one_clear_line() -> None:
    result = run("migrate", DATABASE_URL="postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot migrate the database: ")
    assert result.stderr.count("\n") == 1


def test_migrate_applies_migrations(tmp_path: Path) -> None:
    result = run("migrate", DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.db'}")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "migrations applied\n"
    assert (tmp_path / "fresh.db").exists()


def test_token_signs_in(test_client: Any) -> None:
    result = run("token", "--sub", "cli-user", "--email", "cli@example.com", "--name", "Cli")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip()
    me = test_client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["user"] == {"sub": "cli-user", "email": "cli@example.com", "name": "Cli"}


@pytest.mark.parametrize(
    ("host", "app_env"),
    # An empty APP_ENV is unset, as for every setting: the settings would serve dev.
    [("0.0.0.0", None), ("192.0.2.10", None), ("::", None), ("invites.example", None), ("::", "")],
)
def test_serving_beyond_loopback_without_app_env_refuses_to_start(
    host: str, app_env: str | None
) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "APP_ENV"}
    if app_env is not None:
        environment["APP_ENV"] = app_env
    result = subprocess.run(
        [sys.executable, "-m", "api", "serve", "--host", host, "--port", "1"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == (
        f"error: APP_ENV is not set while serving on {host}: set APP_ENV=prod"
        " (or APP_ENV=dev to serve development settings beyond this machine)\n"
    )


def test_loopback_without_app_env_and_any_host_with_it_are_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from api.__main__ import refuse_dev_defaults_in_public

    refuse_dev_defaults_in_public("0.0.0.0")  # APP_ENV is set in the tests
    monkeypatch.delenv("APP_ENV")
    for host in ("127.0.0.1", "localhost", "::1", "127.0.0.2"):
        refuse_dev_defaults_in_public(host)


def test_serve_raises_the_open_files_limit_to_what_a_worker_needs() -> None:
    import resource

    from api.__main__ import CONNECTIONS_PER_WORKER, OTHER_OPEN_FILES, raise_open_files_limit

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = CONNECTIONS_PER_WORKER + OTHER_OPEN_FILES
    expected = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(1024, expected), hard))
    try:
        assert raise_open_files_limit() == expected
        assert resource.getrlimit(resource.RLIMIT_NOFILE) == (expected, hard)
        assert raise_open_files_limit() == expected  # never lowered
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
