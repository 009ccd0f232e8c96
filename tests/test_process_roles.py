"""Process roles on one database: `serve --web-only` queues and sends nothing, `worker`
sends what web processes queued, each email once, whatever the number of processes; a
SIGTERM'd worker finishes what it holds within 30 s, a SIGKILL'd one loses nothing.

These tests run their processes on a database of their own, so that the session's app
(whose lifespan runs an outbox worker too) cannot send their mail.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from api.auth import AccessTokenVerifier
from api.mail.outbox import BATCHES_IN_FLIGHT
from api.settings import load_settings
from db.claims import RetryPolicy
from tests.conftest import IS_POSTGRES, LiveServer, _tmp, start_server, start_worker, stop_server
from tests.mailbox import Mailbox
from tests.support import until


def fresh_database(name: str) -> str:
    """The URL of a new, empty database on the test run's server (or a new SQLite file)."""
    url = os.environ["DATABASE_URL"]
    if not IS_POSTGRES:
        return f"sqlite:///{_tmp / name}.db"
    import asyncpg

    async def create() -> None:
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(f"DROP DATABASE IF EXISTS {name}")
            await connection.execute(f"CREATE DATABASE {name}")
        finally:
            await connection.close()

    asyncio.run(create())
    return f"{url.rsplit('/', 1)[0]}/{name}"


@contextmanager
def processes() -> Iterator[list[LiveServer]]:
    """Whatever the test starts, stopped (or killed) at the end."""
    started: list[LiveServer] = []
    try:
        yield started
    finally:
        for process in started:
            if process.process.poll() is None:
                os.killpg(process.process.pid, signal.SIGKILL)
                process.process.wait()


class Partner:
    """A signed-in owner of a new partner, using one web process."""

    def __init__(self, server: LiveServer, name: str) -> None:
        token = AccessTokenVerifier(load_settings()).issue(name, f"{name}@example.com", name)
        self.http = httpx.Client(
            base_url=server.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        self.id = self._ok("POST", "/api/v1/partners", json={"name": name})["id"]

    def _ok(self, method: str, url: str, **kwargs: Any) -> Any:
        response = self.http.request(method, url, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    def invite(self, emails: list[str]) -> None:
        ids = [
            self._ok(
                "POST",
                f"/api/v1/partners/{self.id}/clients",
                json={"name": email.split("@")[0], "email": email},
            )["id"]
            for email in emails
        ]
        self._ok("POST", f"/api/v1/partners/{self.id}/invitations", json={"client_ids": ids})


def received(mailbox: Mailbox, domain: str) -> Counter[str]:
    """How many messages each address at `domain` got."""
    return Counter(
        address
        for message in mailbox.messages
        if (address := message["To"].addresses[0].addr_spec).endswith("@" + domain)
    )


def metric(server: LiveServer, name: str) -> float:
    text = httpx.get(f"{server.base_url}/metrics").text
    [line] = [line for line in text.splitlines() if line.startswith(name + " ")]
    return float(line.split(" ")[1])


def test_web_only_sends_nothing_and_a_stopped_worker_hands_over_cleanly(
    mailbox: Mailbox,
) -> None:
    env = {"DATABASE_URL": fresh_database("roles_handover"), "LOG_FORMAT": "json"}
    domain = "handover.example"
    emails = [f"client{i}@{domain}" for i in range(60)]
    with processes() as started:
        web = start_server("--web-only", **env)
        started.append(web)
        Partner(web, "handover").invite(emails)
        time.sleep(2)
        assert received(mailbox, domain) == {}  # a web-only process sends nothing
        assert metric(web, "invites_mail_outbox_pending") == 60

        worker = start_worker(**env)
        started.append(worker)
        until(lambda: sum(received(mailbox, domain).values()) >= 3)
        began = time.monotonic()
        stop_server(worker, within=30)  # SIGTERM with mail in flight
        assert time.monotonic() - began < 30
        assert "worker stopped" in worker.log() and "did not stop in time" not in worker.log()

        started.append(start_worker(**env))  # a second worker sends whatever is left
        until(lambda: len(received(mailbox, domain)) == 60, within=60)
        time.sleep(1)  # a second copy of anything would have arrived by now
        assert set(received(mailbox, domain).values()) == {1}  # none lost, none doubled
        until(lambda: metric(web, "invites_mail_outbox_pending") == 0)


@pytest.mark.postgres
@pytest.mark.skipif(not IS_POSTGRES, reason="several hosts share PostgreSQL only")
def test_two_web_and_two_worker_processes_send_each_email_once(mailbox: Mailbox) -> None:
    env = {"DATABASE_URL": fresh_database("roles_many"), "MAIL_LEASE_SECONDS": "15"}
    with processes() as started:
        webs = [start_server("--web-only", **env) for _ in range(2)]
        workers = [start_worker(**env) for _ in range(2)]
        started += webs + workers

        # 300 invitations through both web processes: each arrives exactly once.
        domain = "many.example"
        for n, web in enumerate(webs):
            Partner(web, f"many{n}").invite([f"c{n}-{i}@{domain}" for i in range(150)])
        until(lambda: len(received(mailbox, domain)) == 300, within=120)
        time.sleep(1)
        assert set(received(mailbox, domain).values()) == {1}

        # Counted once each send's record is committed, which follows the mail server's
        # acceptance of the batch.
        def sent() -> float:
            return sum(metric(w, "invites_mail_sent_total") for w in workers)

        until(lambda: sent() >= 300)
        assert sent() == 300

        # 300 more; one worker is SIGKILLed in the middle of sending them. What it had
        # claimed is sent again once its lease has passed: nothing is lost, and a message
        # goes out twice only if the kill fell between the mail server's acceptance and
        # the record of it, so at most what one worker holds at a time.
        domain = "killed.example"
        for n, web in enumerate(webs):
            Partner(web, f"killed{n}").invite([f"c{n}-{i}@{domain}" for i in range(150)])
        until(lambda: sum(received(mailbox, domain).values()) >= 30, within=60)
        os.killpg(workers[0].process.pid, signal.SIGKILL)
        until(lambda: len(received(mailbox, domain)) == 300, within=120)
        time.sleep(3)  # anything sent twice (with the rest, once the lease passed) is in
        doubles = sum(count - 1 for count in received(mailbox, domain).values())
        assert max(received(mailbox, domain).values()) <= 2
        assert doubles <= BATCHES_IN_FLIGHT * RetryPolicy().batch
        print(f"doubles after SIGKILL: {doubles}")
