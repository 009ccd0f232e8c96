"""Logging for every process role: text or one JSON object a line, written off the loop.

Records go through a `QueueHandler` to a `QueueListener` thread, which formats and writes
them, so a slow terminal or log collector never stalls the event loop. With
`LOG_FORMAT=json` each line is `{"ts", "level", "logger", "msg", ...}` plus the fields a
record carries (`method`, `route`, `status`, `duration_ms`, `request_id` on request
lines); any line logged while a request is handled carries its `request_id`. Messages are
redacted where they are made (`api.access_log.redact_path`): this module formats only.
"""

from __future__ import annotations

import atexit
import logging
import logging.handlers
import queue
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import msgspec

from api.settings import Settings

# The request being handled (set by the access log middleware), for every line it logs.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# The fields a record may carry (as `extra=`) that a JSON line shows.
FIELDS = ("method", "route", "status", "duration_ms", "request_id")
_encode = msgspec.json.Encoder().encode


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for field in FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return _encode(line).decode()


class _ContextQueueHandler(logging.handlers.QueueHandler):
    """Puts the record on the queue as it is (formatting happens in the listener's
    thread), with the request id of the request being handled, if any."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return record


def formatter(settings: Settings) -> logging.Formatter:
    return JsonFormatter() if settings.logs_as_json else logging.Formatter(TEXT_FORMAT)


_listener: logging.handlers.QueueListener | None = None


def configure_logging(settings: Settings) -> None:
    """Send every record of this process through the queue to stderr (once per process)."""
    global _listener
    if _listener is not None:
        return
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    output = logging.StreamHandler(sys.stderr)
    output.setFormatter(formatter(settings))
    _listener = logging.handlers.QueueListener(records, output, respect_handler_level=True)
    _listener.start()
    atexit.register(_listener.stop)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_ContextQueueHandler(records))
    root.setLevel(logging.INFO)


def granian_log_config(settings: Settings) -> dict[str, Any]:
    """Granian's own loggers, in the same format on stderr (its dictConfig form)."""
    fmt: dict[str, Any] = (
        {"()": "api.logs.JsonFormatter"}
        if settings.logs_as_json
        else {"()": "logging.Formatter", "fmt": TEXT_FORMAT}
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"generic": fmt, "access": fmt},
        "handlers": {
            "console": {
                "formatter": "generic",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            },
            "access": {
                "formatter": "access",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": {
            "_granian": {"handlers": ["console"], "level": "INFO", "propagate": False},
            "granian.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }
