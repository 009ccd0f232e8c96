"""1,000 invitations: from the bulk request to the last message accepted by a local SMTP
server, and where the time goes (QR rendering, templating, SMTP).

    .venv/bin/python -m bench.mail_throughput            # SQLite
    DATABASE_URL=postgresql://... .venv/bin/python -m bench.mail_throughput
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime, timedelta

import aiosmtplib

from api.mail.compose import Invite, compose, flatten
from api.qr import render
from bench.common import Server, SMTPSink, table

COUNT = int(os.environ.get("BENCH_INVITES", "1000"))
URL = "https://invites.banqup.example/i/eyJhbGciOiJFZERTQSIsImtpZCI6IjR3X0NDTTBnIn0.eyJqdGkiOiJ{:016d}IiwiZXhwIjoxNzk3MDY1NjA4LCJ0eXAiOiJpbnYifQ.wzvdYRjc7j6XeDGPod0W6zXgiZHE8zxWTEwYOUWOUPILG7TDFhhngwxUmOlfAD_QmN4c_xjJf-PuLedWSK3ZAw"


def end_to_end() -> tuple[float, float]:
    """(seconds for the bulk request, seconds until the last message was accepted)."""
    sink = SMTPSink()
    with (
        sink,
        Server(MAIL_URL=f"smtp://127.0.0.1:{sink.port}") as server,
        server.client("bench") as http,
    ):
        partner = http.post("/api/v1/partners", json={"name": "Bench Accountants"}).json()["id"]
        rows = [{"name": f"Client {i}", "email": f"c{i}@bench.example"} for i in range(COUNT)]
        imported = http.post(f"/api/v1/partners/{partner}/clients/import", json={"clients": rows})
        ids = [r["client"]["id"] for r in imported.json()["results"]]
        started = time.perf_counter()
        response = http.post(f"/api/v1/partners/{partner}/invitations", json={"client_ids": ids})
        answered = time.perf_counter()
        assert response.status_code == 200, response.text
        last = sink.wait_for(COUNT, timeout=600)
    return answered - started, last - started


def qr_seconds(n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        render(URL.format(i), "png", 4)
    return (time.perf_counter() - started) / n


def compose_seconds(n: int) -> tuple[float, list]:
    png = render(URL.format(0), "png", 4)
    expires = datetime.now(UTC) + timedelta(days=14)
    messages = []
    started = time.perf_counter()
    for i in range(n):
        invite = Invite(
            to=f"c{i}@bench.example", client_name=f"Client {i}", partner_name="Bench Accountants",
            language="nl", message="Welkom!", access_level="full", url=URL.format(i),
            app_url="banqupone://invite?token=x", expires_at=expires, replaces_earlier=False,
        )  # fmt: skip
        message = compose(invite, png, "Banqup <no-reply@banqup.example>", "banqup.example")
        messages.append(flatten(message))
    return (time.perf_counter() - started) / n, messages


def smtp_seconds(messages: list) -> float:
    async def send() -> float:
        with SMTPSink() as sink:
            started = time.perf_counter()
            async with aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.port) as smtp:
                for message in messages:
                    await smtp.sendmail(message.sender, message.recipients, message.data)
            return (time.perf_counter() - started) / len(messages)

    return asyncio.run(send())


def main() -> None:
    request, total = end_to_end()
    qr = qr_seconds(100)
    templating, messages = compose_seconds(200)
    smtp = smtp_seconds(messages)
    database = (
        "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgres") else "sqlite"
    )
    print(f"\n{COUNT} invitations on {database}, {os.cpu_count()} cores\n")
    print(
        table(
            [
                ("what", "figure"),
                ("bulk invite request answered", f"{request:.2f} s"),
                ("last email accepted by SMTP", f"{total:.2f} s (target < 30 s)"),
                ("throughput", f"{COUNT / total:.0f} emails/s"),
                (
                    "QR PNG render, one core",
                    f"{qr * 1000:.1f} ms each = {qr * COUNT:.1f} s per {COUNT}",
                ),
                (
                    "templating + MIME",
                    f"{templating * 1000:.2f} ms each = {templating * COUNT:.1f} s",
                ),
                ("SMTP, one connection", f"{smtp * 1000:.2f} ms each = {smtp * COUNT:.1f} s"),
            ]
        )
    )


if __name__ == "__main__":
    main()
