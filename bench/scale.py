"""The scale table: a partner of 100,000 clients beside one of 1,000, on a fresh database.

    tests/with-postgres .venv/bin/python -m bench.scale     # also part of `make bench`

Both partners are filled through the API (imports of 5,000, so 100,000 `client.created`
events too), with one client of a rare name in each; on PostgreSQL the figures are taken
once the database's own upkeep has caught up (`maintained`). Every figure is the median p50 of
three 3-second runs at a fixed rate (two connections, each pausing 20 ms), so latency is
measured without queueing behind the load itself: a search for the rare name, the first
page of the client list, a page deep in it (by cursor) and a page of the event feed from
the middle of it; then, on PostgreSQL, the large partner's first page while 20,000
invitation emails go out to a local SMTP server, against the same page idle: first with
one `serve` process doing both, then (on the same database, with the rest of that send)
with the API `--web-only` and the send in a `worker` process beside it.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from urllib.parse import urlencode

import asyncpg

from bench.common import Server, SMTPSink, WrkRun, median_of, wrk

LARGE = 100_000
SMALL = 1_000
SENT = 20_000
RARE = "Quetzal Bookkeeping"
FIXED_PAUSE = "20"  # ms each of the two connections waits between requests
DEEP_PAGE = 10  # the page of 50 read by cursor (the small partner has 20)

Row = Callable[[str, str, str, str], None]


class Partner:
    """A partner filled with `count` imported clients and one of the rare name."""

    def __init__(self, server: Server, name: str, count: int) -> None:
        self.sub = f"scale-{name}"
        self.served_by(server)
        self.auth = {"Authorization": self.http.headers["Authorization"]}
        self.id = self.http.post("/api/v1/partners", json={"name": name}).json()["id"]
        self.path = f"/api/v1/partners/{self.id}"
        self.client_ids: list[str] = []
        for start in range(0, count, 5000):
            rows = [
                {"name": f"Client {i}", "email": f"client{i}@scale.example", "language": "en"}
                for i in range(start, min(count, start + 5000))
            ]
            response = self.http.post(f"{self.path}/clients/import", json={"clients": rows})
            response.raise_for_status()
            self.client_ids += [r["client"]["id"] for r in response.json()["results"]]
        rare = {"name": RARE, "email": "owner@quetzal.example", "language": "nl"}
        self.http.post(f"{self.path}/clients", json=rare).raise_for_status()

    def served_by(self, server: Server) -> None:
        """Reach the partner through `server` (another one on the same database)."""
        self.server = server
        self.http = server.client(self.sub)

    def url(self, path: str, **query: str | int) -> str:
        return f"{self.server.base_url}{self.path}{path}?{urlencode(query)}"

    def deep_page(self) -> str:
        """The URL of page DEEP_PAGE of the list, by following cursors."""
        cursor = ""
        for _ in range(DEEP_PAGE - 1):
            query = {"limit": 50} | ({"cursor": cursor} if cursor else {})
            cursor = self.http.get(f"{self.path}/clients", params=query).json()["next_cursor"]
        return self.url("/clients", limit=50, cursor=cursor)

    def middle_of_feed(self) -> str:
        """The URL of 100 events from the middle of the feed."""
        first = self.http.get(f"{self.path}/events", params={"limit": 1}).json()["events"][0]
        newest = self.http.get(f"{self.path}/events", params={"after": "latest"}).json()
        middle = (int(first["cursor"]) + int(newest["next_cursor"])) // 2
        return self.url("/events", after=middle, limit=100)

    def p50(self, url: str) -> WrkRun:
        """The median p50 of three runs at a fixed rate; every answer must be a 200."""

        def run() -> WrkRun:
            return wrk(url, args=(FIXED_PAUSE,), headers=self.auth, threads=1, connections=2)

        result = median_of(3, run, key=lambda r: r.latency_ms[50])
        if set(result.statuses) != {200}:
            raise SystemExit(f"{url}: unexpected answers {result.statuses}")
        return result


def compare(label: str, row: Row, large: Partner, small: Partner) -> None:
    """The list's first page, a deep page and the feed, large against small."""
    for what, url_of in (
        ("client list, first page of 50", lambda p: p.url("/clients", limit=50)),
        (f"client list, page {DEEP_PAGE} by cursor", Partner.deep_page),
        ("event feed, 100 events from the middle", Partner.middle_of_feed),
    ):
        at_large = large.p50(url_of(large)).latency_ms[50]
        at_small = small.p50(url_of(small)).latency_ms[50]
        row(
            f"{label}{what}, p50 at {LARGE:,} / {SMALL:,} clients",
            f"{at_large:.1f} / {at_small:.1f} ms",
            f"{at_large / at_small:.2f}x",
            "≤ 1.5x",
        )


def search(label: str, row: Row, large: Partner, target: str) -> None:
    found = large.http.get(f"{large.path}/clients", params={"search": "quetzal"}).json()
    assert [c["name"] for c in found["items"]] == [RARE], found
    run = large.p50(large.url("/clients", search="quetzal", limit=50))
    row(
        f"{label}search for a rare name among {LARGE:,} clients, p50",
        f"{run.latency_ms[50]:.1f} ms",
        f"p99 {run.latency_ms[99]:.1f} ms",
        target,
    )


def during_send(row: Row, sink: SMTPSink, large: Partner) -> None:
    """The large partner's first page idle, then while SENT invitation emails go out."""
    idle = large.p50(large.url("/clients", limit=50))
    for start in range(0, SENT, 1000):
        body = {"client_ids": large.client_ids[start : start + 1000], "message": "Welcome!"}
        large.http.post(f"{large.path}/invitations", json=body).raise_for_status()
    sending(row, "one process", sink, large, idle)


def sending_beside(row: Row, server: Server, sink: SMTPSink, large: Partner) -> None:
    """The same on `server`, `--web-only` (so idle until a worker runs), then with a
    `worker` process beside it sending what is left of the send."""
    large.served_by(server)
    idle = large.p50(large.url("/clients", limit=50))
    with server.background():
        sending(row, "API and a worker process", sink, large, idle)


def sending(row: Row, layout: str, sink: SMTPSink, large: Partner, idle: WrkRun) -> None:
    sink.wait_for(sink.count + 500, timeout=300)  # the send is under way
    before = sink.count
    busy = large.p50(large.url("/clients", limit=50))
    sent_meanwhile = sink.count - before
    if sink.count >= SENT:
        raise SystemExit("the send ended before the measurement did")
    row(
        f"the large partner's first page while {SENT:,} emails go out ({layout}), p50",
        f"{busy.latency_ms[50]:.1f} ms (idle {idle.latency_ms[50]:.1f} ms)",
        f"{busy.latency_ms[50] / idle.latency_ms[50]:.2f}x; {sent_meanwhile:,} emails"
        " sent meanwhile",
        "≤ 2x",
    )


async def maintained(url: str) -> None:
    """What autovacuum does within a minute or so of a bulk load: fresh statistics for the
    planner, and the trigram indexes' pending entries merged (GIN's fast update)."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("VACUUM ANALYZE client, event")
    finally:
        await connection.close()


async def fresh_database(url: str, name: str) -> str:
    """A new empty database `name` on the server of `url`; its URL."""
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def postgres(row: Row, production: dict[str, str]) -> None:
    url = asyncio.run(fresh_database(os.environ["DATABASE_URL"], "invites_scale"))
    sink = SMTPSink()
    mail = f"smtp://127.0.0.1:{sink.port}"
    with sink:
        one_process = Server({"DATABASE_URL": url, "MAIL_URL": mail} | production)
        with one_process as server:
            started = time.perf_counter()
            large = Partner(server, "Large Accountants", LARGE)
            small = Partner(server, "Small Accountants", SMALL)
            print(f"  filled in {time.perf_counter() - started:.0f} s", flush=True)
            asyncio.run(maintained(url))
            search("", row, large, "≤ 10 ms")
            compare("", row, large, small)
            during_send(row, sink, large)
        # The same signing key: the emails left to send carry the first server's tokens.
        key = one_process.env["INVITE_SIGNING_KEY_FILE"]
        environment = {"DATABASE_URL": url, "MAIL_URL": mail, "INVITE_SIGNING_KEY_FILE": key}
        with Server(environment | production, web_only=True) as server:
            sending_beside(row, server, sink, large)


def sqlite(row: Row, production: dict[str, str], folder: str) -> None:
    url = f"sqlite:///{folder}/scale.db"
    with Server({"DATABASE_URL": url} | production) as server:
        large = Partner(server, "Large Accountants", LARGE)
        small = Partner(server, "Small Accountants", SMALL)
        search("sqlite: ", row, large, "(no index serves it: a scan)")
        compare("sqlite: ", row, large, small)


def main() -> None:
    from bench.common import table

    rows: list[tuple[str, ...]] = []

    def row(what: str, figure: str, ratio: str = "", target: str = "") -> None:
        rows.append((what, figure, ratio, target))
        print(f"  {what}: {figure} {ratio} {target}", flush=True)

    production = {"LOG_FORMAT": "json"}
    os.environ["DATABASE_URL"] = os.environ.get("DATABASE_SOCKET_URL") or os.environ["DATABASE_URL"]
    postgres(row, production)
    print(table([("figure", "measured", "ratio / detail", "target"), *rows]))


if __name__ == "__main__":
    main()
