"""`make bench`: the service loaded the way its busiest users load it, one table.

    tests/with-postgres .venv/bin/python -m bench.run

Runs the API under granian (one worker, JSON logs and metrics on, as in production) on
PostgreSQL (`DATABASE_URL`), then the parts where it makes sense on SQLite, and loads it
from separate processes over loopback: wrk for HTTP, asyncpg for the direct-SQL
yardstick, a local SMTP server for email, a local receiver for webhooks. Each figure is
measured after the mail backlog has drained (except the email and webhook figures), and
each HTTP figure is a ratio to two ceilings measured in the same run: the service's own
`/healthz` (every middleware and hook, a trivial handler) and a bare one-route Litestar
app served the same way (`bench.bare_app`), measured in rounds with the 304 poll and the
cached QR (`reads`).
"""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from bench import direct, scale
from bench.common import (
    Arrivals,
    Served,
    Server,
    SMTPSink,
    WrkRun,
    cpu_seconds,
    median,
    median_of,
    rss_mb,
    table,
    wrk,
)

CONFIRM_TOKENS = 1500  # through the API, 32 concurrent for 2 s
DIRECT_TOKENS = 3000  # through asyncpg directly, the same
LATENCY_TOKENS = 500  # preview and confirm each, at a fixed 100/s for 4 s
FIXED_RATE = 100  # requests/s for the latency figures: two connections, each pausing
FIXED: dict[str, Any] = {"threads": 1, "connections": 2}  # (no bursts queueing up)
FIXED_PAUSE = str(2 * 1000 // FIXED_RATE)
HELD_POLLS = 1000
WEBHOOK_EVENTS = 3000  # client.created events (one import) to one endpoint: 20-60 s here
PRODUCTION = {"LOG_FORMAT": "json", "WEBHOOK_ALLOW_PRIVATE": "true"}  # metrics are always on
MANY_INVITATIONS = 100_000
READ_ROUNDS = 5  # of the two ceilings, the 304 poll and the cached QR, one after the other
ROWS: list[tuple[str, ...]] = []


def row(what: str, figure: str, ratio: str = "", target: str = "") -> None:
    ROWS.append((what, figure, ratio, target))
    print(f"  {what}: {figure} {ratio} {target}", flush=True)


def timed(call: Callable[[], httpx.Response]) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = call()
    response.raise_for_status()
    return time.perf_counter() - started, response


class Dashboard:
    """A partner with clients, driven through the API as its dashboard would."""

    def __init__(self, server: Server, name: str) -> None:
        self.server = server
        self.http = server.client(f"bench-{name}")
        self.id = self.http.post("/api/v1/partners", json={"name": name}).json()["id"]
        self.path = f"/api/v1/partners/{self.id}"

    def import_clients(self, count: int, start: int = 0) -> tuple[float, list[str]]:
        rows = [
            {
                "name": f"Client {i}",
                "email": f"client{i}@bench.example",
                "language": ("en", "nl", "fr", "de")[i % 4],
                "vat_number": f"BE0{i:09d}",
                "external_ref": f"R-{i}",
            }
            for i in range(start, start + count)
        ]
        seconds, response = timed(
            lambda: self.http.post(f"{self.path}/clients/import", json={"clients": rows})
        )
        return seconds, [r["client"]["id"] for r in response.json()["results"]]

    def invite(self, client_ids: list[str]) -> tuple[float, list[str]]:
        """Seconds per request of 1000, and the tokens."""
        tokens, seconds = [], []
        for start in range(0, len(client_ids), 1000):
            body = {"client_ids": client_ids[start : start + 1000], "message": "Welcome!"}
            took, response = timed(partial(self.http.post, f"{self.path}/invitations", json=body))
            seconds.append(took)
            tokens += [
                r["invitation"]["url"].rsplit("/i/", 1)[1] for r in response.json()["results"]
            ]
        return max(seconds), tokens


def token_files(tokens: list[str], name: str, threads: int = 2) -> str:
    prefix = str(Path(tempfile.mkdtemp(prefix="bench-tokens-")) / name)
    for n in range(threads):
        Path(f"{prefix}.{n + 1}").write_text("\n".join(tokens[n::threads]) + "\n")
    return prefix


def ratio(value: float, ceiling: float) -> str:
    return f"{value / ceiling:.2f}"


def ratios(value: float, ceilings: tuple[float, float]) -> str:
    """A rate as a ratio to the service's `/healthz` and to the bare Litestar app."""
    return f"{value / ceilings[0]:.2f} /healthz, {value / ceilings[1]:.2f} bare"


def check(run: WrkRun, status: int, what: str) -> None:
    bad = {s: n for s, n in run.statuses.items() if s != status}
    if bad or run.exhausted:
        raise SystemExit(f"{what}: unexpected answers {run.statuses}, exhausted {run.exhausted}")


class Reads(NamedTuple):
    """Requests/s of one round: the service's `/healthz`, the bare app's, the 304 poll
    and the cached QR."""

    healthz: float
    bare: float
    poll: float
    image: float


def reads(server: Server, bare_app: Served, dashboard: Dashboard, token: str) -> list[Reads]:
    """The two ceilings and figures 1 and 2 in READ_ROUNDS rounds, the four of a round one
    right after the other, so that a load coming and going on this shared machine weighs
    on the four of a round alike."""
    polled = f"{server.base_url}{dashboard.path}/clients?status=invited"
    etag = dashboard.http.get(polled).headers["etag"]
    headers = {"Authorization": dashboard.http.headers["Authorization"], "If-None-Match": etag}
    qr = f"{server.base_url}/i/{token}/qr.png"
    httpx.get(qr).raise_for_status()  # rendered once, cached from here on
    rounds = []
    for _ in range(READ_ROUNDS):
        healthz = wrk(f"{server.base_url}/healthz")
        check(healthz, 200, "/healthz")
        bare = wrk(f"{bare_app.base_url}/healthz")
        check(bare, 200, "bare app")
        poll = wrk(polled, headers=headers)
        check(poll, 304, "dashboard poll")
        image = wrk(qr)
        check(image, 200, "QR fetch")
        rounds.append(Reads(healthz.rate, bare.rate, poll.rate, image.rate))
    return rounds


def report_reads(label: str, rounds: list[Reads]) -> tuple[float, float]:
    """Rows for the two ceilings and figures 1 and 2, each ratio the median of the
    rounds' own; the ceilings (`/healthz`, bare: medians) for the other figures."""

    def rates(figure: str) -> list[float]:
        return [getattr(r, figure) for r in rounds]

    def per_round(figure: str, ceiling: str) -> str:
        return f"{median([getattr(r, figure) / getattr(r, ceiling) for r in rounds]):.2f}"

    def runs(figure: str) -> str:
        return "runs " + ", ".join(f"{rate:,.0f}" for rate in rates(figure))

    n = len(rounds)
    ceilings = median(rates("healthz")), median(rates("bare"))
    row(f"{label}bare Litestar app (median of {n})", f"{ceilings[1]:,.0f} req/s", runs("bare"))
    row(
        f"{label}/healthz, JSON logs + metrics (median of {n})",
        f"{ceilings[0]:,.0f} req/s",
        f"{per_round('healthz', 'bare')} bare; {runs('healthz')}",
        "≥ 0.85 bare",
    )
    for name, figure, target in (
        ("1. dashboard poll, 304", "poll", "≥ 0.6 /healthz, ≥ 0.7 bare"),
        ("2. cached QR PNG", "image", "≥ 0.8 /healthz, ≥ 0.8 bare"),
    ):
        row(
            f"{label}{name} (median of {n})",
            f"{median(rates(figure)):,.0f} req/s",
            f"{per_round(figure, 'healthz')} /healthz, {per_round(figure, 'bare')} bare",
            target,
        )
    return ceilings


def postgres() -> None:
    database_url = os.environ["DATABASE_URL"]  # the socket one, when there is one (main())
    sink = SMTPSink()
    bare_app = Served("bench.bare_app", "/healthz")
    receiver = Served("bench.receiver", "/count")
    mail = f"smtp://127.0.0.1:{sink.port}"
    poll_caps = {f"LONGPOLLS_PER_{s}": str(HELD_POLLS) for s in ("USER", "PARTNER", "PROCESS")}
    with sink, bare_app, receiver, Server({"MAIL_URL": mail} | poll_caps | PRODUCTION) as server:
        time.sleep(2)
        at_rest = rss_mb(server.worker)
        anna = Dashboard(server, "Polled Accountants")
        _, ids = anna.import_clients(200)
        _, polled_tokens = anna.invite(ids[:50])
        bob = Dashboard(server, "Confirming Accountants")
        _, ids = bob.import_clients(CONFIRM_TOKENS + 2 * LATENCY_TOKENS)
        _, tokens = bob.invite(ids)
        carol = Dashboard(server, "Direct Accountants")
        _, ids = carol.import_clients(DIRECT_TOKENS)
        carol.invite(ids)
        sent = 50 + CONFIRM_TOKENS + 2 * LATENCY_TOKENS + DIRECT_TOKENS
        sink.wait_for(sent, timeout=600)
        time.sleep(1)  # the last batch is recorded

        print("\npostgresql: requests", flush=True)
        rounds = reads(server, bare_app, anna, polled_tokens[0])

        def app_user(name: str) -> dict[str, str]:  # each new business is its user's
            return {"Authorization": f"Bearer {server.token(name)}"}

        confirm_url = f"{server.base_url}/api/v1/mobile/invitations/confirm"
        confirms = wrk(
            confirm_url,
            script="tokens.lua",
            args=(token_files(tokens[:CONFIRM_TOKENS], "confirm"), "confirm"),
            headers=app_user("bench-confirm"),
            seconds=2,
        )
        check(confirms, 200, "confirm")
        straight = asyncio.run(direct.confirms(database_url, carol.id, seconds=2, concurrency=32))
        fixed: dict[str, WrkRun] = {}
        for kind, batch in (
            ("preview", tokens[CONFIRM_TOKENS : CONFIRM_TOKENS + LATENCY_TOKENS]),
            ("confirm", tokens[CONFIRM_TOKENS + LATENCY_TOKENS :]),
        ):
            fixed[kind] = wrk(
                f"{server.base_url}/api/v1/mobile/invitations/{kind}",
                script="tokens.lua",
                args=(token_files(batch, kind, threads=1), kind, FIXED_PAUSE),
                headers=app_user(f"bench-{kind}"),
                seconds=4,
                **FIXED,
            )
            check(fixed[kind], 200, f"{kind} at a fixed rate")
        ceilings = report_reads("", rounds)
        row(
            "3. confirm, 32 concurrent",
            f"{confirms.rate:,.0f} /s",
            ratios(confirms.rate, ceilings),
            "≥ 0.05 /healthz, ≥ 1,000/s",
        )
        row(
            "3. the same SQL straight on asyncpg",
            f"{straight:,.0f} /s",
            f"API/direct {confirms.rate / straight:.2f}",
            "≥ 0.5",
        )
        for kind, run in fixed.items():
            row(
                f"8. {kind}, p50 / p99",
                f"{run.latency_ms[50]:.1f} / {run.latency_ms[99]:.1f} ms",
                f"at {run.rate:.0f} req/s",
            )

        print("\npostgresql: bulk writes and email", flush=True)
        dave = Dashboard(server, "Bulk Accountants")
        imported, ids = dave.import_clients(5000)
        import_direct = asyncio.run(direct.import_clients(database_url, 5000))
        row(
            "4. import of 5,000 clients",
            f"{imported:.2f} s",
            f"{imported / import_direct:.1f}x direct ({import_direct:.2f} s)",
            "≤ 1.5 s, ≤ 3x",
        )
        listed = f"{server.base_url}{anna.path}/clients?limit=50"

        auth = {"Authorization": anna.http.headers["Authorization"]}

        def list_latency() -> WrkRun:  # the median p50 of three runs
            run = lambda: wrk(listed, args=(FIXED_PAUSE,), headers=auth, seconds=3, **FIXED)  # noqa: E731
            return median_of(3, run, key=lambda r: r.latency_ms[50])

        idle = list_latency()
        before = sink.count
        invited, _ = dave.invite(ids[:1000])
        invite_direct = asyncio.run(direct.invite(database_url, 1000))
        row(
            "4. bulk invite of 1,000 clients",
            f"{invited:.2f} s",
            f"{invited / invite_direct:.1f}x direct ({invite_direct:.2f} s)",
            "≤ 1.0 s, ≤ 3x",
        )
        dave.invite(ids[1000:3000])
        busy = list_latency()
        sink.wait_for(before + 3000, timeout=600)
        arrivals = sink.arrivals[before + 300 : before + 2700]
        emails = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])
        row("5. invitation emails to SMTP, sustained", f"{emails:.0f} /s", "", "≥ 100/s")
        slower = busy.latency_ms[50] / idle.latency_ms[50]
        row(
            f"5. client list at {busy.rate:.0f}/s meanwhile, p50 (median of 3)",
            f"{busy.latency_ms[50]:.1f} ms (idle {idle.latency_ms[50]:.1f} ms)",
            f"{slower:.2f}x",
            "≤ 1.2x",
        )
        time.sleep(1)

        print("\npostgresql: webhooks", flush=True)
        webhooks(server, receiver, list_latency, "one process")

        print("\npostgresql: memory", flush=True)
        row("7. server memory at rest", f"{at_rest:.0f} MiB")
        held, idle_cpu = asyncio.run(long_polls(server, anna))
        row(
            f"6. {HELD_POLLS:,} idle long-polls held",
            f"+{held:.1f} MiB",
            f"CPU {idle_cpu:.0%} of a core while idle",
            "≤ 50 MiB, ≈ 0",
        )
        created = many_invitations(server)
        row(
            f"7. server memory after {MANY_INVITATIONS:,} invitations",
            f"{rss_mb(server.worker):.0f} MiB",
            f"made in {created:.0f} s",
        )


def webhooks(
    server: Server, receiver: Served, list_latency: Callable[[], WrkRun], label: str
) -> None:
    """Deliveries of WEBHOOK_EVENTS events to one endpoint on a local receiver, drained by
    the service's background work, and the client list's latency meanwhile."""
    frank = Dashboard(server, f"Webhook Accountants {label}")
    endpoint = {"url": f"{receiver.base_url}/hook", "description": "bench receiver"}
    frank.http.post(f"{frank.path}/webhooks", json=endpoint).raise_for_status()
    idle = list_latency()
    with Arrivals(receiver) as arrivals:
        before = arrivals.count
        for start in range(0, WEBHOOK_EVENTS, 5000):
            frank.import_clients(min(5000, WEBHOOK_EVENTS - start), start)
        busy = list_latency()
        overlapped = arrivals.count < before + WEBHOOK_EVENTS
        arrivals.wait_for(before + WEBHOOK_EVENTS, timeout=600)
    tenth = WEBHOOK_EVENTS // 10
    rate = arrivals.rate(before + tenth, before + WEBHOOK_EVENTS - tenth)
    row(
        f"webhooks ({label}): deliveries to a receiver on loopback",
        f"{rate:,.0f} /s",
        f"{WEBHOOK_EVENTS:,} events, one endpoint",
    )
    slower = busy.latency_ms[50] / idle.latency_ms[50]
    row(
        f"webhooks ({label}): client list at {busy.rate:.0f}/s meanwhile, p50 (median of 3)",
        f"{busy.latency_ms[50]:.1f} ms (idle {idle.latency_ms[50]:.1f} ms)",
        f"{slower:.2f}x" + ("" if overlapped else " (deliveries ended first)"),
        "≤ 1.2x",
    )


def webhooks_beside() -> None:
    """The same with the API `--web-only` and the deliveries in a `worker` process beside
    it, as a deployment of several processes runs them (after the one-process server has
    stopped: its background work would take these deliveries too)."""
    print("\npostgresql: webhooks, API and a worker process", flush=True)
    receiver = Served("bench.receiver", "/count")
    with receiver, Server(PRODUCTION, web_only=True) as server, server.background():
        anna = Dashboard(server, "Polled Accountants")
        anna.import_clients(200)
        listed = f"{server.base_url}{anna.path}/clients?limit=50"
        auth = {"Authorization": anna.http.headers["Authorization"]}

        def list_latency() -> WrkRun:
            run = lambda: wrk(listed, args=(FIXED_PAUSE,), headers=auth, seconds=3, **FIXED)  # noqa: E731
            return median_of(3, run, key=lambda r: r.latency_ms[50])

        webhooks(server, receiver, list_latency, "API and a worker process")


async def long_polls(server: Server, dashboard: Dashboard) -> tuple[float, float]:
    """Extra worker memory with HELD_POLLS long-polls waiting, and its CPU meanwhile (the
    server's long-poll caps raised to hold them all: one user, one partner)."""
    worker = server.worker
    before = rss_mb(worker)
    limits = httpx.Limits(max_connections=HELD_POLLS + 10)
    headers = dict(dashboard.http.headers)
    async with httpx.AsyncClient(
        base_url=server.base_url, headers=headers, limits=limits, timeout=60
    ) as http:
        cursor = (await http.get(f"{dashboard.path}/events?limit=1")).json()["next_cursor"]
        newest = (await http.get(f"{dashboard.path}/events?after={cursor}&limit=500")).json()
        while newest["events"]:
            cursor = newest["next_cursor"]
            newest = (await http.get(f"{dashboard.path}/events?after={cursor}&limit=500")).json()
        url = f"{dashboard.path}/events?after={cursor}&wait=20"
        polls = [asyncio.create_task(http.get(url)) for _ in range(HELD_POLLS)]
        await asyncio.sleep(5)  # all are in and waiting
        if answered := sum(poll.done() for poll in polls):
            raise SystemExit(f"{answered} of {HELD_POLLS} long-polls were answered, not held")
        held = rss_mb(worker) - before
        cpu = cpu_seconds(worker)
        await asyncio.sleep(3)
        idle_cpu = (cpu_seconds(worker) - cpu) / 3
        for poll in polls:
            poll.cancel()
        await asyncio.gather(*polls, return_exceptions=True)
    return held, idle_cpu


def many_invitations(server: Server) -> float:
    """MANY_INVITATIONS invitations made through the API; the seconds it took."""
    started = time.perf_counter()
    erin = Dashboard(server, "Large Accountants")
    for start in range(0, MANY_INVITATIONS, 5000):
        _, ids = erin.import_clients(5000, start)
        erin.invite(ids)
    erin.http.get(f"{erin.path}/clients?status=invited&limit=500").raise_for_status()
    return time.perf_counter() - started


def sqlite() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-sqlite-"))
    sink = SMTPSink()
    environment = {"DATABASE_URL": f"sqlite:///{folder / 'bench.db'}"}
    bare_app = Served("bench.bare_app", "/healthz")
    mail = f"smtp://127.0.0.1:{sink.port}"
    with sink, bare_app, Server({"MAIL_URL": mail} | environment | PRODUCTION) as server:
        print("\nsqlite", flush=True)
        anna = Dashboard(server, "Polled Accountants")
        _, ids = anna.import_clients(200)
        _, tokens = anna.invite(ids[:50])
        sink.wait_for(50, timeout=120)
        time.sleep(1)
        report_reads("sqlite: ", reads(server, bare_app, anna, tokens[0]))
        dave = Dashboard(server, "Bulk Accountants")
        imported, ids = dave.import_clients(5000)
        row("sqlite: 4. import of 5,000 clients", f"{imported:.2f} s", "", "≤ 1.5 s")
        invited, _ = dave.invite(ids[:1000])
        row("sqlite: 4. bulk invite of 1,000 clients", f"{invited:.2f} s", "", "≤ 1.0 s")


def main() -> None:
    started = time.perf_counter()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("run on PostgreSQL: tests/with-postgres .venv/bin/python -m bench.run")
    # PostgreSQL on this host: over its Unix socket (cheaper round trips than TCP), for the
    # service and the direct-SQL yardstick alike.
    os.environ["DATABASE_URL"] = os.environ.get("DATABASE_SOCKET_URL") or os.environ["DATABASE_URL"]
    postgres()
    webhooks_beside()
    print("\npostgresql: scale", flush=True)
    scale.postgres(row, PRODUCTION)
    sqlite()
    print("\nsqlite: scale", flush=True)
    scale.sqlite(row, PRODUCTION, tempfile.mkdtemp(prefix="bench-scale-"))
    print(
        f"\n{datetime.now(UTC):%Y-%m-%d}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, {platform.platform(terse=True)};"
        f" granian 1 worker, JSON logs, metrics on; PostgreSQL over {'its Unix socket' if 'host=/' in os.environ['DATABASE_URL'] else 'TCP'};"
        f" wrk -t2 -c32 from another process; {time.perf_counter() - started:.0f} s\n"
    )
    print(table([("figure", "measured", "ratio / detail", "target"), *ROWS]))


if __name__ == "__main__":
    main()
