"""Faults: the database going away and coming back, and a server killed mid-request."""

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from db.errors import is_outage
from db.piccolo_conf import DB
from db.tables import Client, Event, Invitation, MailOutbox
from tests.conftest import IS_POSTGRES, LiveServer, Runner, missing_tool, start_server
from tests.support import Api, assert_problem, until

# The killed server serves requests only (`--web-only`): its one write transaction is the
# bulk invite's, told apart by its connections' name on PostgreSQL and by its length on
# SQLite (about 0.2 s; the test app's own loops hold the write lock a few milliseconds).
BULK_SERVER = "killed-mid-invite"
LONG_WRITE = 0.05


async def _bulk_server_writing() -> bool:
    rows = await Event.raw(
        "SELECT count(*) AS open FROM pg_stat_activity"
        " WHERE application_name = {} AND backend_xid IS NOT NULL",
        BULK_SERVER,
    )
    return bool(rows[0]["open"])


def _sqlite_write_locked() -> bool:
    with contextlib.closing(sqlite3.connect(DB.path, timeout=0)) as connection:
        try:
            connection.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:  # "database is locked": a writer is at work
            return True
        connection.rollback()
        return False


def bulk_invite_in_progress(db: Runner) -> bool:
    """Whether the bulk invite's transaction is open (on SQLite: the write lock held for
    the next LONG_WRITE seconds)."""
    if IS_POSTGRES:
        return bool(db(_bulk_server_writing))
    held_until = time.monotonic() + LONG_WRITE
    while time.monotonic() < held_until:
        if not _sqlite_write_locked():
            return False
        time.sleep(0.005)
    return True


def pg_ctl(*args: str) -> None:
    if "PGBIN_TEST" not in os.environ:
        missing_tool("needs the server of tests/with-postgres to stop and start it")
    command = [f"{os.environ['PGBIN_TEST']}/pg_ctl", "-D", os.environ["PGDATA_TEST"], *args]
    if os.getuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


@pytest.mark.skipif(not IS_POSTGRES, reason="restarts the PostgreSQL server of the run")
def test_postgres_restart_gives_503_then_recovers(api: Api, db: Runner) -> None:
    anna = api.user("anna")
    partner = api.partner(anna)
    pg_ctl("-m", "fast", "-w", "stop")
    try:
        for _ in range(3):  # stale pooled connections and refused new ones alike
            response = anna.get(f"/api/v1/partners/{partner}/clients")
            assert_problem(anna.post("/api/v1/businesses", json={"name": "B"}), 503, "unavailable")
            body = assert_problem(response, 503, "unavailable")
            assert response.headers["retry-after"] == "1"
            assert "database" in body["detail"]
        assert_problem(api.http.get("/readyz"), 503, "unavailable")
        assert api.http.get("/healthz").status_code == 200
    finally:
        pg_ctl("-w", "-l", os.environ["PGLOG_TEST"], "-o", os.environ["PGOPTIONS_TEST"], "start")
    deadline = time.monotonic() + 15
    while anna.get(f"/api/v1/partners/{partner}/clients").status_code != 200:
        assert time.monotonic() < deadline, "the API did not recover"
        time.sleep(0.2)
    # Ready again once the event listener is back too (it retries every 2 s).
    until(lambda: api.http.get("/readyz").status_code == 200)
    assert api.client_row(anna, partner)["status"] == "inactive"

    async def connections_in_use() -> int:
        pool = DB.pool  # type: ignore[attr-defined]
        return int(pool.get_size() - pool.get_idle_size())

    # Every request handed its connection back: a leaked one stays in use for good, while
    # the background loops of the test app (the sweep runs every 0.3 s) hold theirs for
    # a moment at a time.
    until(lambda: db(connections_in_use) == 0, within=5)


@pytest.fixture
def bulk_server(test_client: Any) -> Iterator[LiveServer]:
    """The server to kill mid-invite; killed after the test in any case."""
    url = os.environ["DATABASE_URL"]
    if IS_POSTGRES:  # its connections named (asyncpg passes the parameter to the server)
        url += f"{'&' if '?' in url else '?'}application_name={BULK_SERVER}"
    server = start_server(
        "--web-only",
        DATABASE_URL=url,
        MAIL_URL="file:///nonexistent-never-sent",
        INVITES_PER_NEW_PARTNER_PER_DAY="1000",
    )
    yield server
    with contextlib.suppress(ProcessLookupError):  # the test killed it already
        os.killpg(server.process.pid, signal.SIGKILL)


def test_a_server_killed_mid_bulk_invite_leaves_no_half_invitation(
    api: Api, db: Runner, bulk_server: LiveServer
) -> None:
    anna = api.user("anna")
    http = httpx.Client(base_url=bulk_server.base_url, headers=anna.headers, timeout=60)
    partner = http.post("/api/v1/partners", json={"name": "Acme"}).json()["id"]
    rows = [{"name": f"C{i}", "email": f"c{i}@example.com"} for i in range(1000)]
    imported = http.post(
        f"/api/v1/partners/{partner}/clients/import", json={"clients": rows}
    ).json()
    ids = [r["client"]["id"] for r in imported["results"]]

    answers: list[int] = []

    def invite() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server dies under it, as intended
            answers.append(
                http.post(
                    f"/api/v1/partners/{partner}/invitations", json={"client_ids": ids}
                ).status_code
            )

    request = threading.Thread(target=invite)
    request.start()
    deadline = time.monotonic() + 30
    while not bulk_invite_in_progress(db):  # kill it inside its transaction
        assert request.is_alive() and time.monotonic() < deadline, "no transaction was seen"
        time.sleep(0.002)
    os.killpg(bulk_server.process.pid, signal.SIGKILL)
    bulk_server.process.wait(timeout=10)
    request.join(timeout=30)
    assert answers == [], "the bulk invite finished before the kill: nothing was tested"

    async def counts() -> dict[str, int]:
        partner_id = UUID(partner)
        invitations = await Invitation.select(Invitation.id).where(Invitation.partner == partner_id)
        invitation_ids = [r["id"] for r in invitations]
        outbox = (
            await MailOutbox.count().where(MailOutbox.invitation.is_in(invitation_ids))
            if invitation_ids
            else 0
        )
        created = await Event.count().where(
            (Event.partner == partner_id) & (Event.type == "invitation.created")
        )
        invited = await Client.count().where(
            (Client.partner == partner_id) & (Client.status == "invited")
        )
        return {
            "invitations": len(invitation_ids),
            "outbox": outbox,
            "events": created,
            "invited": invited,
        }

    found = db(counts)
    assert found["invitations"] in (0, 1000), found
    assert found == {k: found["invitations"] for k in found}, found
    # And the service goes on: the same request on a fresh server completes.
    if found["invitations"] == 0:
        assert api.invite(anna, partner, ids[:3])[0]["invitation"]["status"] == "pending"


@pytest.mark.parametrize(
    ("error", "outage"),
    [
        (ConnectionRefusedError(111, "Connection refused"), True),
        (ConnectionResetError(104, "Connection reset by peer"), True),
        (TimeoutError(), True),
        (socket.gaierror(-2, "Name or service not known"), True),
        (OSError("Multiple exceptions: [Errno 111] ..."), True),  # asyncio, several addresses
        (sqlite3.OperationalError("database is locked"), True),
        (FileNotFoundError(2, "No such file or directory"), True),  # no Unix socket (yet)
        (PermissionError(13, "Permission denied"), True),  # to connect to that socket
        (FileNotFoundError(2, "No such file or directory", "api/templates/x.j2"), False),
        (PermissionError(13, "Permission denied", "var/invite-signing-key.pem"), False),
        (sqlite3.OperationalError("no such column: x"), False),
        (ValueError("a bug"), False),
    ],
)
def test_what_counts_as_the_database_being_away(error: Exception, outage: bool) -> None:
    """A 503 for an outage, the traceback logged and a 500 for anything else (a file of
    this host's own that cannot be read is a fault, not an outage)."""
    assert is_outage(error) is outage


def test_a_database_behind_a_missing_unix_socket_is_away(tmp_path: Path) -> None:
    """What asyncpg raises while PostgreSQL restarts behind its socket (no file yet)."""

    async def connect() -> None:
        await asyncpg.connect(f"postgresql://invites@/invites?host={tmp_path}", timeout=2)

    with pytest.raises(OSError) as caught:
        asyncio.run(connect())
    assert is_outage(caught.value)
