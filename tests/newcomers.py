"""`python -m tests.newcomers PORT`: asks `/healthz` and then `GET /api/v1/me` (with the
`Authorization` header in `$PROBE_AUTHORIZATION`), each on a new connection as a newcomer
would, back to back until its standard input closes; one JSON line per probe:
`[asked_at (time.monotonic()), [seconds, status] of /healthz, [seconds, status] of /me]`,
a status of 0 meaning no answer within 5 s.

Its own process, so that what it measures is the server, not a test process busy with
the abuse it sends.
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
import time


def answer(port: int, path: str, headers: dict[str, str]) -> tuple[float, int]:
    """Seconds until the answer (from connecting), and its status."""
    asked = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers=headers)
        status = connection.getresponse().status
    except OSError:
        status = 0
    finally:
        connection.close()
    return time.monotonic() - asked, status


def main() -> None:
    port = int(sys.argv[1])
    signed_in = {"Authorization": os.environ["PROBE_AUTHORIZATION"]}
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    while not stop.is_set():
        asked = time.monotonic()
        answers = (answer(port, "/healthz", {}), answer(port, "/api/v1/me", signed_in))
        print(json.dumps([asked, *answers]), flush=True)
        stop.wait(0.05)


if __name__ == "__main__":
    main()
