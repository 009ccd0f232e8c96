"""Command line: `python -m api serve|worker|migrate|token|demo|openapi`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import warnings

os.environ.setdefault("PICCOLO_CONF", "db.piccolo_conf")
# Piccolo warns (in colour, over several lines) when the database is away; we say it once.
warnings.filterwarnings("ignore", message=r".*Unable to (connect to database|fetch server version)")

from api.settings import ConfigError, Settings, load_settings  # noqa: E402

METRICS_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(2)


def refuse_dev_defaults_in_public(host: str) -> None:
    """Serving beyond this machine with APP_ENV unset would run on generated development
    secrets: that must be said, so APP_ENV is then required (`dev` or `prod`). An empty
    value is unset, as for every setting."""
    if os.environ.get("APP_ENV") or _is_loopback(host):
        return
    raise ConfigError(
        f"APP_ENV is not set while serving on {host}: set APP_ENV=prod"
        " (or APP_ENV=dev to serve development settings beyond this machine)"
    )


def _is_loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may be any address


# Granian's `backpressure` bounds the connections a worker has open, not the requests it
# runs: each accepted connection holds a permit until it closes, idle keep-alive ones
# included, and the connections beyond wait unaccepted in the `backlog`. At 1,024, a
# flood of 1,100 long-polls (each answered 429 at once, its connection kept by the
# client) left newcomers unaccepted until the idle ones timed out 10 s later. What the
# connections cost is bounded elsewhere: held long-polls are capped (api.services.bus),
# bodies have a deadline (api.routes.bodies) and headers 10 s; this bound only keeps a
# worker within its open files (`raise_open_files_limit`).
BACKLOG = 2048
CONNECTIONS_PER_WORKER = 4096
HEADER_READ_MS = 10_000  # a request's headers must arrive within 10 s

WEB_ONLY_ENV = "INVITES_WEB_ONLY"  # how `serve --web-only` reaches granian's workers


OTHER_OPEN_FILES = 1024  # a worker's own: database connections, logs, the QR renderers


def raise_open_files_limit() -> int:
    """Raise this process's soft limit of open files, which each worker inherits, to what
    a worker's connections need, within the hard limit (many systems start at a soft
    1,024): the soft limit now."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = CONNECTIONS_PER_WORKER + OTHER_OPEN_FILES
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        return wanted
    return soft


def app_factory() -> object:
    """Granian's entry point: settings from the environment."""
    from api.app import create_app
    from api.logs import configure_logging

    settings = load_settings()
    configure_logging(settings)
    return create_app(settings, web_only=os.environ.get(WEB_ONLY_ENV) == "1")


def openapi_json(settings: Settings) -> str:
    """The served OpenAPI schema, as checked in at mobile_contract/openapi.json."""
    import json

    from api.app import create_app

    app = create_app(settings)
    return json.dumps(app.openapi_schema.to_schema(), indent=2, sort_keys=True, ensure_ascii=False)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="apply migrations, then serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--web-only", action="store_true", help="HTTP only; leave background work to `worker`"
    )
    worker = commands.add_parser("worker", help="apply migrations, then run the background work")
    worker.add_argument("--metrics-host", default="127.0.0.1")
    worker.add_argument("--metrics-port", type=int, help="serve GET /metrics on this port")
    commands.add_parser("migrate", help="apply migrations only")
    token = commands.add_parser("token", help="print a development access token")
    token.add_argument("--sub", required=True)
    token.add_argument("--email")
    token.add_argument("--name")
    token.add_argument("--ttl", type=int, default=12 * 3600, help="seconds")
    commands.add_parser("demo", help="seed demo data on an empty database and print URLs to try")
    commands.add_parser("openapi", help="print the OpenAPI schema that the server serves")
    args = parser.parse_args(argv)

    try:
        settings = load_settings()
        if args.command == "serve":
            refuse_dev_defaults_in_public(args.host)
            # Before prometheus_client is imported here, so that the workers forked from
            # this process share the directory (the files this process writes while
            # importing are cleared again just before they start).
            os.environ.setdefault(METRICS_DIR_ENV, f"{settings.var_dir}/metrics/{os.getpid()}")
            os.makedirs(os.environ[METRICS_DIR_ENV], exist_ok=True)
        elif args.command == "worker":
            os.environ.pop(METRICS_DIR_ENV, None)  # one process: its own counts
        if args.command == "openapi":
            print(openapi_json(settings))
            return
        if args.command == "token":
            from api.auth import AccessTokenVerifier

            print(AccessTokenVerifier(settings).issue(args.sub, args.email, args.name, args.ttl))
            return
        from api.services.context import Context

        # Check the key file now, so that a bad one is one clear line, not a traceback.
        Context.from_settings(settings)
    except ConfigError as exc:
        _fail(str(exc))

    from db.migrate import migrate

    try:
        asyncio.run(migrate())
    except Exception as exc:  # the database is unreachable or refuses us
        _fail(f"cannot migrate the database: {exc}")
    if args.command == "migrate":
        print("migrations applied")
    elif args.command == "demo":
        from api.demo import seed

        asyncio.run(seed(settings))
    elif args.command == "worker":
        from api.logs import configure_logging
        from api.worker import run_worker

        configure_logging(settings)
        asyncio.run(run_worker(settings, args.metrics_host, args.metrics_port))
    elif args.command == "serve":
        from granian import Granian
        from granian.constants import Interfaces
        from granian.http import HTTP1Settings

        from api import metrics
        from api.logs import granian_log_config

        if args.web_only:
            os.environ[WEB_ONLY_ENV] = "1"
        metrics.prepare_multiprocess_dir()
        raise_open_files_limit()
        try:
            Granian(
                "api.__main__:app_factory",
                address=args.host,
                port=args.port,
                interface=Interfaces.ASGI,
                workers=args.workers,
                factory=True,
                log_access=False,
                log_dictconfig=granian_log_config(settings),
                # A worker gets its 30 s to finish background work in hand (api.background).
                workers_kill_timeout=30,
                backlog=BACKLOG,
                backpressure=CONNECTIONS_PER_WORKER,
                http1_settings=HTTP1Settings(header_read_timeout=HEADER_READ_MS),
            ).serve()
        finally:
            metrics.remove_multiprocess_dir(settings.var_dir)


if __name__ == "__main__":
    main()
