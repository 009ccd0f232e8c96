"""Shared pieces of the benchmarks: a server process, a local SMTP sink, signed-in callers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
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
    """aiosmtpd on loopback that counts accepted messages and notes when the last came."""

    def __init__(self) -> None:
        self.port = free_port()
        self.count = 0
        self.last_at = 0.0
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.count += 1
            self.last_at = time.perf_counter()
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
    """`python -m api serve` (granian, one worker) on its own database and keys."""

    def __init__(self, **env: str) -> None:
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
            }
            | env
        )
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        log = (self.dir / "server.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "api", "serve", "--port", str(self.port)],
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
        self.process.wait(timeout=30)

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


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"| {name.ljust(width)} | {value} |" for name, value in rows)
