"""Test setup: one real database for the session, chosen by `DATABASE_URL`.

Unset, the suite runs on a fresh SQLite file; `DATABASE_URL=postgresql://...` runs the
same tests on PostgreSQL (its `public` schema is emptied first). The app runs in
Litestar's TestClient; anything the tests do to the database directly goes through the
client's event loop (`db` fixture), because the PostgreSQL pool lives there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import settings as hypothesis_settings

_tmp = Path(tempfile.mkdtemp(prefix="invites-tests-"))

# The property tests share their process with the app's loops and subprocess servers on a
# busy machine: an example's time says nothing about its outcome.
hypothesis_settings.register_profile("suite", deadline=None)
hypothesis_settings.load_profile("suite")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SMTP_PORT = _free_port()
os.environ["PICCOLO_CONF"] = "db.piccolo_conf"
os.environ.setdefault("DATABASE_URL", f"sqlite:///{_tmp / 'invites.db'}")
os.environ.update(
    {
        "APP_ENV": "dev",
        "VAR_DIR": str(_tmp / "var"),
        "INVITE_SIGNING_KEY_FILE": str(_tmp / "var" / "invite-signing-key.pem"),
        "AUTH_HS256_SECRET": "test-secret-test-secret-test-secret-0123456789",
        "PUBLIC_BASE_URL": "https://invites.banqup.example",  # 30 characters
        "MAIL_URL": f"smtp://127.0.0.1:{SMTP_PORT}",
        "MAIL_RETRY_BASE_SECONDS": "0.2",
        "SWEEP_SECONDS": "0.3",  # expiry and reminders (in fractions of a day) within seconds
        "WEBHOOK_RETRY_BASE_SECONDS": "0.05",
    }
)

from litestar.testing import TestClient  # noqa: E402

from api.app import create_app  # noqa: E402
from api.settings import Settings, load_settings  # noqa: E402
from tests.mailbox import Mailbox  # noqa: E402
from tests.support import Api, Caller  # noqa: E402

T = TypeVar("T")
_APP_STARTED = False
IS_POSTGRES = os.environ["DATABASE_URL"].startswith(("postgres://", "postgresql://"))
# CI sets this: a test that cannot run because a tool is missing fails instead of skipping.
REQUIRE_ALL_TESTS = os.environ.get("REQUIRE_ALL_TESTS") == "1"


def missing_tool(reason: str) -> None:
    """Skip the test, or the module when called at import: `reason` says which tool is
    missing and how to get it (one line in the summary). Under REQUIRE_ALL_TESTS=1 the
    test (or the module's collection) fails instead."""
    if REQUIRE_ALL_TESTS:
        pytest.fail(f"{reason} (REQUIRE_ALL_TESTS=1)", pytrace=False)
    pytest.skip(reason, allow_module_level=True)


def pytest_report_header() -> str:
    where = os.environ["DATABASE_URL"].split("@")[-1]
    return f"database: {'postgresql' if IS_POSTGRES else 'sqlite'} ({where})"


def _reset_postgres() -> None:
    import asyncpg

    async def reset() -> None:
        conn = await asyncpg.connect(os.environ["DATABASE_URL"])
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await conn.close()

    asyncio.run(reset())


@pytest.fixture(scope="session")
def settings() -> Settings:
    if IS_POSTGRES:
        _reset_postgres()
    return load_settings()


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    """A real SMTP server (aiosmtpd) on loopback that every app of the session sends to."""
    box = Mailbox("127.0.0.1", SMTP_PORT)
    box.up()
    yield box
    box.down()


@pytest.fixture(scope="session")
def test_client(settings: Settings, mailbox: Mailbox) -> Iterator[TestClient[Any]]:
    """The app, started (lifespan and all), in Litestar's test client."""
    global _APP_STARTED
    with TestClient(create_app(settings), base_url="http://testserver.local") as started:
        _APP_STARTED = True
        yield started


Runner = Callable[[Callable[[], Awaitable[Any]]], Any]


@pytest.fixture
def db(test_client: TestClient[Any]) -> Runner:
    """Run an async function on the app's event loop (where the pool lives)."""

    def run(fn: Callable[[], Awaitable[T]]) -> T:
        return test_client.blocking_portal.call(fn)  # type: ignore[arg-type]

    return run


TABLES_IN_DELETE_ORDER = (
    "access_notice",
    "known_user",
    "idempotency_key",
    "code_budget",
    "invite_quota",
    "webhook_delivery",
    "webhook_endpoint",
    "mail_outbox",
    "event",
    "qr_grant",
    "link",
    "registration_link",
    "invitation",
    "client",
    "partner_member",
    "business_member",
    "partner",
    "business",
)


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "test_client" not in request.fixturenames:
        return
    test_client: TestClient[Any] = request.getfixturevalue("test_client")
    from db.piccolo_conf import DB

    async def clean() -> None:
        if IS_POSTGRES:
            from db.errors import is_transient_conflict

            # The app's background loops keep writing meanwhile: a deadlock with one of
            # them is retried (PostgreSQL cancelled our side, nothing was truncated).
            for attempt in range(5):
                try:
                    await DB.run_ddl(f"TRUNCATE {', '.join(TABLES_IN_DELETE_ORDER)} CASCADE")
                    return
                except Exception as exc:
                    if not is_transient_conflict(exc) or attempt == 4:
                        raise
                    await asyncio.sleep(0.1)
        else:
            for table in TABLES_IN_DELETE_ORDER:
                await DB.run_ddl(f'DELETE FROM "{table}"')

    test_client.blocking_portal.call(clean)
    # `known_users` remembers which users this process has recorded: emptied with the
    # tables, or a user of an earlier test is never recorded again (no access notices).
    test_client.app.state.ctx.known_users.clear()
    request.getfixturevalue("mailbox").reset()


@pytest.fixture
def api(test_client: TestClient[Any]) -> Api:
    return Api(test_client)


@pytest.fixture
def owner(api: Api) -> Caller:
    """Anna, who runs the partner of most tests."""
    return api.user("anna")


@pytest.fixture
def partner(api: Api, owner: Caller) -> str:
    return api.partner(owner, "Acme Accountants")


class LiveServer:
    """`python -m api serve` (or `worker`) in a subprocess, on the test database; its log
    kept."""

    def __init__(self, port: int, log_path: Path, process: Any) -> None:
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.process = process

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


# Logs written with LOG_FORMAT=json: every line of each must be one JSON object.
JSON_LOGS: set[Path] = set()


# Every process started for the tests. Each runs in a session of its own (its workers with
# it), so it would outlive pytest: any still there when the session ends (its test failed
# before stopping it) is killed with its workers.
_LAUNCHED: list[Any] = []


def pytest_sessionfinish() -> None:
    import signal

    for process in _LAUNCHED:
        with contextlib.suppress(ProcessLookupError):  # the group has ended already
            os.killpg(process.pid, signal.SIGKILL)


def _launch(role: str, args: list[str], env: dict[str, str], port: int | None = None) -> LiveServer:
    """`python -m api ROLE ARGS` on a free port; its output in `{role}-{port}.log`."""
    import subprocess
    import sys

    port = port or _free_port()
    log_path = _tmp / f"{role}-{port}.log"
    # The same PUBLIC_BASE_URL as the test app: processes sharing a database (and an
    # outbox) are one deployment, and write the same links.
    environment = dict(os.environ) | env
    if environment.get("LOG_FORMAT") == "json":
        JSON_LOGS.add(log_path)
    port_args = ["--port", str(port)] if role == "server" else ["--metrics-port", str(port)]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "api", "serve" if role == "server" else role, *port_args, *args],
            cwd=Path(__file__).parent.parent,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers share a process group we can end together
        )
    _LAUNCHED.append(process)
    return LiveServer(port, log_path, process)


def _wait_for(server: LiveServer, path: str) -> LiveServer:
    import time

    import httpx

    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{server.base_url}{path}", timeout=1).status_code < 500:
                return server
        except httpx.HTTPError:
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the process did not start:\n{server.log()}")
        time.sleep(0.1)


def start_server(*args: str, port: int | None = None, **env: str) -> LiveServer:
    """Start `python -m api serve ARGS` on the test database (unless `env` names another),
    on `port` or a free one; wait until it answers."""
    server = _launch("server", ["--host", "127.0.0.1", *args], env, port)
    return _wait_for(server, "/healthz")


def start_worker(**env: str) -> LiveServer:
    """Start `python -m api worker` (its metrics on `base_url`); wait until it answers."""
    return _wait_for(_launch("worker", [], env), "/metrics")


def stop_server(server: LiveServer, within: float = 15) -> None:
    import signal
    import subprocess

    server.process.terminate()
    try:
        server.process.wait(timeout=within)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        raise AssertionError(f"the process did not stop within {within} s of SIGTERM") from None


# Server processes live as long as the module that asked for them: while one runs, it
# shares the database and its background work (mail, sweeps) with the test app, which
# the tests of other modules (e.g. test_unit_of_work) do not expect.
@pytest.fixture(scope="module")
def live_server(test_client: TestClient[Any]) -> Iterator[LiveServer]:
    """A real server process (granian) sharing the test database and keys."""
    server = start_server()
    yield server
    stop_server(server)


METRICS_TOKEN = "metrics-token-for-the-tests"


@pytest.fixture(scope="module")
def json_server(test_client: TestClient[Any]) -> Iterator[LiveServer]:
    """A production-like server: two granian workers, JSON logs, a metrics token."""
    server = start_server("--workers", "2", LOG_FORMAT="json", METRICS_TOKEN=METRICS_TOKEN)
    yield server
    stop_server(server)


SECRET_PATTERNS = (
    # Any JWT: invitation tokens (EdDSA) and access tokens (HS256) alike.
    re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    # A user code as shown (XXXX-XXXX).
    re.compile(r"\b[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}\b"),
)


class _Recorder(logging.Handler):
    """Keeps what the service and its libraries log (not the test's own HTTP client)."""

    SERVICE = ("api", "litestar", "piccolo", "asyncpg", "smtplib", "granian", "jinja2", "segno")

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.split(".")[0] in self.SERVICE:
            self.lines.append(self.format(record))


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


@pytest.fixture(scope="session", autouse=True)
def no_secrets_in_any_log() -> Iterator[None]:
    """Log hygiene over the whole run: every line the app logged in this process (access
    log included) and every line of every server and worker process, checked for tokens
    and codes, and for tracebacks (odd input is answered, never a crash); and every line
    of a process that logged JSON is one JSON object."""
    recorder = _Recorder()
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.INFO)
    root.addHandler(recorder)
    yield
    root.removeHandler(recorder)
    root.setLevel(previous)
    logs = [*_tmp.glob("server-*.log"), *_tmp.glob("worker-*.log")]
    lines = recorder.lines + [
        line for path in logs for line in path.read_text(errors="replace").splitlines()
    ]
    not_json = [
        f"{path.name}: {line}"
        for path in JSON_LOGS
        for line in path.read_text(errors="replace").splitlines()
        if not _is_json_object(line)
    ]
    assert not_json == [], f"lines of JSON logs that are not one JSON object: {not_json[:5]}"
    if _APP_STARTED:  # the app served requests: its access log must have been captured
        assert any(
            line.startswith(("GET ", "POST "))  # this process's, as recorded
            or " api.access " in line  # a server's, in text
            or '"logger":"api.access"' in line  # a server's, in JSON
            for line in lines
        ), "no access log captured"
    leaks = [line for line in lines if any(p.search(line) for p in SECRET_PATTERNS)]
    assert leaks == [], f"secrets in the logs: {leaks[:5]}"
    tracebacks = [line for line in lines if "Traceback (most recent call last)" in line]
    assert tracebacks == [], f"tracebacks in the logs: {tracebacks[:3]}"
