"""The yardstick for HTTP figures: a one-route Litestar app served the way the service is
(granian, one worker, ASGI, no access log), so that a ratio to it says what the service
adds to the framework and the server.

    .venv/bin/python -m bench.bare_app --port 8001     # GET /healthz -> {"status":"ok"}
"""

from __future__ import annotations

import argparse

from litestar import Litestar, get


@get("/healthz", cache=False)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


app = Litestar(route_handlers=[healthz])


def serve(target: str, port: int) -> None:
    """Serve `target` ("module:app") as `python -m api serve` serves the service."""
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        target,
        address="127.0.0.1",
        port=port,
        interface=Interfaces.ASGI,
        workers=1,
        log_access=False,
        workers_kill_timeout=30,
    ).serve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    serve("bench.bare_app:app", parser.parse_args().port)


if __name__ == "__main__":
    main()
