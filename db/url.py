"""Parse `DATABASE_URL` into a Piccolo engine.

Kept apart from `piccolo_conf` so settings can validate the URL (and fail with one clear
line) without creating an engine.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from piccolo.engine.base import Engine

DEFAULT_DATABASE_URL = "sqlite:///var/invites.db"


def configured_url(env: Mapping[str, str] = os.environ) -> str:
    """`DATABASE_URL` from the environment, or the default SQLite file."""
    return env.get("DATABASE_URL") or DEFAULT_DATABASE_URL


class DatabaseURLError(ValueError):
    """`DATABASE_URL` is not a URL this service can use."""


def sqlite_path(url: str) -> Path | None:
    """The file of a `sqlite:///PATH` URL, or None for any other scheme."""
    if not url.startswith("sqlite:"):
        return None
    if not url.startswith("sqlite:///") or len(url) == len("sqlite:///"):
        raise DatabaseURLError(f"DATABASE_URL {url!r}: expected sqlite:///PATH")
    path = url[len("sqlite:///") :]
    if path == ":memory:" or path.startswith("file:"):
        raise DatabaseURLError("DATABASE_URL: in-memory SQLite is not supported, use a file")
    return Path(path)


def check_database_url(url: str) -> str:
    """Return the engine kind (`sqlite` or `postgres`) or raise DatabaseURLError."""
    if sqlite_path(url) is not None:
        return "sqlite"
    parts = urlsplit(url)
    if parts.scheme in ("postgresql", "postgres"):
        if not parts.hostname and "host=" not in parts.query:
            raise DatabaseURLError(f"DATABASE_URL: no host in {parts.scheme}:// URL")
        return "postgres"
    raise DatabaseURLError(
        f"DATABASE_URL: unknown scheme {parts.scheme!r} (use sqlite:///PATH or postgresql://...)"
    )


def engine_from_url(url: str) -> Engine:
    """Build the Piccolo engine for `url` (SQLite file or PostgreSQL)."""
    kind = check_database_url(url)
    if kind == "sqlite":
        from db.sqlite import BoundedSQLiteEngine

        path = sqlite_path(url)
        assert path is not None
        path.parent.mkdir(parents=True, exist_ok=True)
        # A generous busy timeout: writers queue behind one another instead of failing.
        return BoundedSQLiteEngine(path=str(path), timeout=30)
    from piccolo.engine.postgres import PostgresEngine

    return PostgresEngine(config={"dsn": url})
