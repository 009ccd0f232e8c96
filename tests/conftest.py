"""Test setup: one real database for the session, chosen by `DATABASE_URL`.

Unset, the suite runs on a fresh SQLite file; `DATABASE_URL=postgresql://...` runs the
same tests on PostgreSQL (its `public` schema is emptied first). The app runs in
Litestar's TestClient; anything the tests do to the database directly goes through the
client's event loop (`db` fixture), because the PostgreSQL pool lives there.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

_tmp = Path(tempfile.mkdtemp(prefix="invites-tests-"))


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
    "idempotency_key",
    "user_code_attempt",
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
            await DB.run_ddl(f"TRUNCATE {', '.join(TABLES_IN_DELETE_ORDER)} CASCADE")
        else:
            for table in TABLES_IN_DELETE_ORDER:
                await DB.run_ddl(f'DELETE FROM "{table}"')

    test_client.blocking_portal.call(clean)
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
    """`python -m api serve` in a subprocess, on the test database; its log kept."""

    def __init__(self, port: int, log_path: Path, process: Any) -> None:
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.process = process

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(**env: str) -> LiveServer:
    """Start `python -m api serve` on the test database; wait until it answers."""
    import subprocess
    import sys
    import time

    import httpx

    port = _free_port()
    log_path = _tmp / f"server-{port}.log"
    # The same PUBLIC_BASE_URL as the test app: processes sharing a database (and an
    # outbox) are one deployment, and write the same links.
    environment = dict(os.environ) | env
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "api", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=Path(__file__).parent.parent,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers share a process group we can end together
        )
    server = LiveServer(port, log_path, process)
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{server.base_url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start:\n{server.log()}")
        time.sleep(0.1)


def stop_server(server: LiveServer) -> None:
    import signal
    import subprocess

    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        raise AssertionError("the server did not stop within 15 s of SIGTERM") from None


@pytest.fixture(scope="session")
def live_server(test_client: TestClient[Any]) -> Iterator[LiveServer]:
    """A real server process (granian) sharing the test database and keys."""
    server = start_server()
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


@pytest.fixture(scope="session", autouse=True)
def no_secrets_in_any_log() -> Iterator[None]:
    """Log hygiene over the whole run: every line the app logged in this process (access
    log included) and every line of every server process, checked for tokens and codes."""
    recorder = _Recorder()
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.INFO)
    root.addHandler(recorder)
    yield
    root.removeHandler(recorder)
    root.setLevel(previous)
    lines = recorder.lines + [
        line
        for path in _tmp.glob("server-*.log")
        for line in path.read_text(errors="replace").splitlines()
    ]
    if _APP_STARTED:  # the app served requests: its access log must have been captured
        assert any(line.startswith(("GET ", "POST ")) for line in lines), "no access log captured"
    leaks = [line for line in lines if any(p.search(line) for p in SECRET_PATTERNS)]
    assert leaks == [], f"secrets in the logs: {leaks[:5]}"
