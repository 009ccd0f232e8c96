"""Where an invitation email's time goes, one at a time in this process: the QR, the
templates and MIME tree, and handing it to a local SMTP server.

    .venv/bin/python -m bench.email_costs
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

from api.mail.compose import Invite, Outgoing, compose, flatten
from api.mail.transport import SMTPTransport
from api.qr import render
from bench.common import SMTPSink, table

URL = "https://invites.banqup.example/i/eyJhbGciOiJFZERTQSIsImtpZCI6IjR3X0NDTTBnIn0.eyJqdGkiOiJ{:016d}IiwiZXhwIjoxNzk3MDY1NjA4LCJ0eXAiOiJpbnYifQ.wzvdYRjc7j6XeDGPod0W6zXgiZHE8zxWTEwYOUWOUPILG7TDFhhngwxUmOlfAD_QmN4c_xjJf-PuLedWSK3ZAw"


def qr_seconds(n: int) -> float:
    started = time.perf_counter()
    for i in range(n):
        render(URL.format(i), "png", 4)
    return (time.perf_counter() - started) / n


def compose_seconds(n: int) -> tuple[float, list[Outgoing]]:
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


def smtp_seconds(messages: list[Outgoing]) -> float:
    with SMTPSink() as sink:
        transport = SMTPTransport(f"smtp://127.0.0.1:{sink.port}")
        started = time.perf_counter()
        for message in messages:
            transport.send(message)
        return (time.perf_counter() - started) / len(messages)


def main() -> None:
    qr = qr_seconds(100)
    templating, messages = compose_seconds(200)
    smtp = smtp_seconds(messages)
    print(f"\nOne invitation email, {os.cpu_count()} cores\n")
    print(
        table(
            [
                ("step", "time"),
                ("QR PNG (segno, faster masks, scale 4)", f"{qr * 1000:.1f} ms"),
                ("templates + MIME tree + bytes", f"{templating * 1000:.2f} ms"),
                ("SMTP, over one connection", f"{smtp * 1000:.2f} ms"),
            ]
        )
    )


if __name__ == "__main__":
    main()
