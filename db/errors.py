"""What a database error means, recognised by its type, for both engines."""

from __future__ import annotations

import sqlite3

import asyncpg

# SQLite's extended result codes of a violated UNIQUE constraint or primary key.
_SQLITE_UNIQUE = {2067, 1555}


def is_unique_violation(exc: BaseException) -> bool:
    """A row collided with another under a unique index (a race another writer won)."""
    if isinstance(exc, sqlite3.IntegrityError):
        return getattr(exc, "sqlite_errorcode", None) in _SQLITE_UNIQUE
    return isinstance(exc, asyncpg.exceptions.UniqueViolationError)


def is_transient_conflict(exc: BaseException) -> bool:
    """A deadlock or serialisation failure: the same request would succeed if retried."""
    return isinstance(
        exc,
        asyncpg.exceptions.DeadlockDetectedError | asyncpg.exceptions.SerializationError,
    )


def is_outage(exc: BaseException) -> bool:
    """The database cannot be reached just now (not a fault of the request)."""
    if isinstance(exc, OSError):
        # Refused, reset, timed out, no route, no such host, no socket file (PostgreSQL
        # restarting behind a Unix socket): a connection's errors name no file. One that
        # names a file is about this host's own (a template, a key): a fault, no outage.
        # (A few file errors name none, e.g. ssl's loading of a certificate; none of them
        # is raised while a request is answered.)
        return exc.filename is None
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc)
        return "unable to open" in text or "locked" in text or "disk I/O" in text
    if isinstance(exc, asyncpg.exceptions.InterfaceError):
        return "connection" in str(exc)  # "connection is closed", "...was released"
    return isinstance(
        exc,
        asyncpg.exceptions.CannotConnectNowError
        | asyncpg.exceptions.ConnectionDoesNotExistError
        | asyncpg.exceptions.AdminShutdownError
        | asyncpg.exceptions.TooManyConnectionsError,
    )
