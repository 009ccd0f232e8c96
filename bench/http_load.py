"""Requests per second of what dashboards poll, as a ratio to a bare route on the same
server (`/healthz`), measured in one run with wrk from a separate process on loopback.

    .venv/bin/python -m bench.http_load            # SQLite
    tests/with-postgres .venv/bin/python -m bench.http_load

Figures: dashboard polling (`GET …/clients?status=invited` answered 304 for a matching
If-None-Match) and cached QR PNG fetches. The bare-route baseline is the median of three
runs before and three after.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from bench.common import Server, table

SCRIPT = Path(__file__).with_name("statuses.lua")
DURATION = os.environ.get("BENCH_SECONDS", "5")
CONNECTIONS = "32"


def wrk(url: str, headers: dict[str, str]) -> tuple[float, dict[int, int]]:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "-s", str(SCRIPT)]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    statuses = {int(s): int(n) for s, n in re.findall(r"^status (\d+) (\d+)$", output, re.M)}
    return rate, statuses


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install -y wrk")
    with Server() as server, server.client("bench-partner") as http:
        partner = http.post("/api/v1/partners", json={"name": "Bench Accountants"}).json()["id"]
        rows = [{"name": f"Client {i}", "email": f"c{i}@bench.example"} for i in range(200)]
        imported = http.post(
            f"/api/v1/partners/{partner}/clients/import", json={"clients": rows}
        ).json()
        ids = [r["client"]["id"] for r in imported["results"]]
        results = http.post(
            f"/api/v1/partners/{partner}/invitations", json={"client_ids": ids[:50]}
        ).json()
        invitation = results["results"][0]["invitation"]
        polled = f"/api/v1/partners/{partner}/clients?status=invited"
        while any(
            c["invitation"]["email_status"] == "queued" for c in http.get(polled).json()["items"]
        ):
            time.sleep(0.2)  # measure after the mail backlog has drained
        etag = http.get(polled).headers["etag"]
        qr = invitation["qr_png_url"].replace("https://invites.banqup.example", server.base_url)
        assert http.get(qr).status_code == 200  # rendered once, cached from here on
        auth = {"Authorization": http.headers["Authorization"]}

        bare = [wrk(f"{server.base_url}/healthz", {})[0] for _ in range(3)]
        polling, poll_statuses = wrk(server.base_url + polled, auth | {"If-None-Match": etag})
        images, image_statuses = wrk(qr, {})
        bare += [wrk(f"{server.base_url}/healthz", {})[0] for _ in range(3)]
    ceiling = statistics.median(bare)
    database = (
        "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    )
    print(
        f"\n{database}, {os.cpu_count()} cores, wrk -t2 -c{CONNECTIONS} -d{DURATION}s, granian 1 worker\n"
    )
    print(
        table(
            [
                ("figure", "req/s | ratio to bare | statuses"),
                (
                    "bare route (/healthz), median of 6",
                    f"{ceiling:,.0f} | 1.00 | runs {', '.join(f'{b:,.0f}' for b in bare)}",
                ),
                (
                    "dashboard poll, 304",
                    f"{polling:,.0f} | {polling / ceiling:.2f} (target 0.6) | {poll_statuses}",
                ),
                (
                    "cached QR PNG",
                    f"{images:,.0f} | {images / ceiling:.2f} (target 0.8) | {image_statuses}",
                ),
            ]
        )
    )


if __name__ == "__main__":
    main()
