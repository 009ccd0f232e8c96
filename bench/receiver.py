"""A webhook receiver for the delivery figure: a bare ASGI app under granian (one worker)
that answers every POST with 204 at once and counts them; `GET /count` tells how many
came, and the time (CLOCK_MONOTONIC, shared by every process of the host) of the last.

    .venv/bin/python -m bench.receiver --port 8002
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from bench.bare_app import serve

received = 0
last_at = 0.0


async def app(scope: Any, receive: Any, send: Any) -> None:
    global received, last_at
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    if scope["method"] == "POST":
        received += 1
        last_at = time.monotonic()
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    body = f'{{"count": {received}, "last_at": {last_at}}}'.encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    serve("bench.receiver:app", parser.parse_args().port)


if __name__ == "__main__":
    main()
