"""Shared pieces of the benchmarks: a server process, a local SMTP sink, signed-in callers."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-secret-bench-secret-bench-secret-0123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SMTPSink:
    """aiosmtpd on loopback that counts accepted messages and notes when each came."""

    def __init__(self) -> None:
        self.port = free_port()
        self.arrivals: list[float] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    @property
    def count(self) -> int:
        return len(self.arrivals)

    @property
    def last_at(self) -> float:
        return self.arrivals[-1] if self.arrivals else 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.arrivals.append(time.perf_counter())
        return "250 OK"

    def __enter__(self) -> SMTPSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()

    def wait_for(self, count: int, timeout: float) -> float:
        deadline = time.perf_counter() + timeout
        while self.count < count:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{self.count} of {count} messages arrived")
            time.sleep(0.01)
        return self.last_at


class Server:
    """`python -m api serve` (granian, one worker) on its own database and keys; with
    `web_only`, HTTP alone, and `background()` runs `python -m api worker` beside it."""

    def __init__(self, env: Mapping[str, str], web_only: bool = False) -> None:
        self.web_only = web_only
        self.dir = Path(tempfile.mkdtemp(prefix="invites-bench-"))
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = (
            dict(os.environ)
            | {
                "PICCOLO_CONF": "db.piccolo_conf",
                "DATABASE_URL": os.environ.get("DATABASE_URL")
                or f"sqlite:///{self.dir / 'bench.db'}",
                "VAR_DIR": str(self.dir / "var"),
                "INVITE_SIGNING_KEY_FILE": str(self.dir / "var" / "key.pem"),
                "AUTH_HS256_SECRET": SECRET,
                "PUBLIC_BASE_URL": "https://invites.banqup.example",
                "MAIL_URL": f"file://{self.dir / 'mail'}",
                # The benchmarks invite far more than a real partner's day.
                "INVITES_PER_PARTNER_PER_DAY": "10000000",
                "INVITES_PER_NEW_PARTNER_PER_DAY": "10000000",
            }
            | dict(env)
        )
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        log = (self.dir / "server.log").open("wb")
        command = [sys.executable, "-m", "api", "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            command + (["--web-only"] if self.web_only else []),
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((self.dir / "server.log").read_text())
            time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=45)  # granian's own grace is 30 s

    @contextlib.contextmanager
    def background(self) -> Iterator[None]:
        """`python -m api worker` on the same database: the background work of a
        `--web-only` server, in a process of its own."""
        log = (self.dir / "worker.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "api", "worker"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            yield
        finally:
            process.terminate()
            process.wait(timeout=40)

    @property
    def worker(self) -> int:
        """The pid of the worker process serving requests (granian runs one)."""
        assert self.process is not None
        for pid in children(self.process.pid):
            if "multiprocessing" not in Path(f"/proc/{pid}/cmdline").read_text():
                return pid
        raise RuntimeError("no worker process")

    def token(self, sub: str) -> str:
        import jwt

        now = int(time.time())
        claims = {
            "sub": sub,
            "iss": "banqup-dev",
            "aud": "invites-api",
            "iat": now,
            "exp": now + 7200,
        }
        return jwt.encode(claims | {"email": f"{sub}@example.com"}, SECRET, algorithm="HS256")

    def client(self, sub: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token(sub)}"},
            timeout=120,
        )


class Served:
    """A bench process of its own (`python -m bench.bare_app`, `bench.receiver`) on a free
    port, up once `probe` answers; stopped on leaving."""

    def __init__(self, module: str, probe: str) -> None:
        self.module = module
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.probe = probe
        self.log = Path(tempfile.mkdtemp(prefix="bench-served-")) / "out.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Served:
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "--port", str(self.port)],
            cwd=ROOT,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.base_url}{self.probe}", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(self.log.read_text())
            time.sleep(0.1)

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=45)  # granian's own grace is 30 s


class Arrivals:
    """Samples a receiver's `GET /count` every 20 ms in a thread: (monotonic time, count)."""

    def __init__(self, receiver: Served) -> None:
        self.url = f"{receiver.base_url}/count"
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        with httpx.Client(timeout=5) as http:
            while not self._stop.wait(0.02):
                self._take(http)

    def _take(self, http: httpx.Client) -> None:
        count = http.get(self.url).json()["count"]
        self.samples.append((time.monotonic(), count))

    @property
    def count(self) -> int:
        return self.samples[-1][1] if self.samples else 0

    def __enter__(self) -> Arrivals:
        with httpx.Client(timeout=5) as http:
            self._take(http)  # so `count` is the receiver's, earlier runs' arrivals included
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def wait_for(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.count < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.count} of {count} deliveries arrived")
            time.sleep(0.05)

    def when(self, count: int) -> float:
        """When the receiver had at least `count` (first sample that saw it)."""
        return next(at for at, seen in self.samples if seen >= count)

    def rate(self, first: int, last: int) -> float:
        """Arrivals per second between the `first`-th and the `last`-th."""
        return (last - first) / (self.when(last) - self.when(first))


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of one process, in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024  # type: ignore[union-attr]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


HERE = Path(__file__).parent


@dataclass
class WrkRun:
    rate: float
    statuses: dict[int, int]
    latency_ms: dict[int, float] = field(default_factory=dict)  # percentile -> ms
    exhausted: int = 0

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if status < 400)


def wrk(
    url: str,
    *,
    script: str = "statuses.lua",
    args: tuple[str, ...] = (),
    headers: dict[str, str] | None = None,
    seconds: float = 3,
    connections: int = 32,
    threads: int = 2,
) -> WrkRun:
    """wrk from its own process on loopback, with a Lua script of `bench/`."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["-s", str(HERE / script)]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command += [url, "--", *args]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return WrkRun(
        rate=rate,
        statuses={int(s): int(n) for s, n in re.findall(r"^status (\d+) (\d+)$", output, re.M)},
        latency_ms={
            int(p): float(ms) for p, ms in re.findall(r"^latency p(\d+) ([\d.]+)$", output, re.M)
        },
        exhausted=int((re.search(r"^exhausted (\d+)$", output, re.M) or [0, 0])[1]),
    )


def median_of(
    runs: int, measure: Callable[[], WrkRun], key: Callable[[WrkRun], float] = lambda r: r.rate
) -> WrkRun:
    """The median run of `runs` by `key` (figures here drift ±25% from run to run)."""
    results = sorted((measure() for _ in range(runs)), key=key)
    return results[len(results) // 2]


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)
