"""Logging for every process role: text or one JSON object a line, written off the loop.

Records are appended to a buffer that a writer thread formats and writes in batches
(every `FLUSH_SECONDS`, at once for a warning or worse), so a slow terminal or log
collector never stalls the event loop, and the loop does not hand the GIL to a thread for
each request's line. With
`LOG_FORMAT=json` each line is `{"ts", "level", "logger", "msg", ...}` plus the fields a
record carries (`method`, `route`, `status`, `duration_ms`, `request_id` on request
lines); any line logged while a request is handled carries its `request_id`. Request lines
come in batches, one `Lines` record each, so that a line costs far less than a request.
Messages are redacted where they are made (`api.access_log.redact_path`): this module
formats only.
"""

from __future__ import annotations

import atexit
import logging
import sys
import threading
from collections import deque
from collections.abc import Iterator
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
_encoder = msgspec.json.Encoder()
_encode = _encoder.encode

# A line of a `Lines` record: when it happened, its message, and the fields it carries.
Entry = tuple[float, str, dict[str, Any]]


class Lines(logging.LogRecord):
    """Many INFO lines of one logger in one record, each an `Entry`. A busy server writes
    a line per request; a `LogRecord` a line, passed down the logger tree and formatted
    field by field, cost more than the request itself, so `api.access_log` hands over a
    batch at a time. The formatters here write one line an entry. Any other handler (a
    test's capture, an error tracker) gets the batch as one record: its message is the
    lines' messages, one a line, and `each()` gives a record a line with its fields."""

    def __init__(self, name: str, entries: list[Entry]) -> None:
        super().__init__(name, logging.INFO, __file__, 0, f"{len(entries)} lines", None, None)
        self.entries = entries

    def getMessage(self) -> str:
        return "\n".join(message for _, message, _ in self.entries)

    def each(self) -> Iterator[logging.LogRecord]:
        """A record a line: this record's logger, level and thread; the line's time,
        message and fields (made without `LogRecord.__init__`, as it would read the
        clock and look up the thread for each)."""
        common = {key: value for key, value in self.__dict__.items() if key != "entries"}
        for created, message, fields in self.entries:
            line = logging.LogRecord.__new__(logging.LogRecord)
            line.__dict__.update(common)
            line.__dict__.update(fields)
            line.msg, line.args = message, None
            line.created, line.msecs = created, created % 1 * 1000
            line.relativeCreated = self.relativeCreated + (created - self.created) * 1000
            yield line


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if isinstance(record, Lines):
            return "\n".join(map(super().format, record.each()))
        return super().format(record)


class JsonFormatter(logging.Formatter):
    _second = (0, "1970-01-01T00:00:00")  # the last whole second formatted, and its text

    def timestamp(self, created: float) -> str:
        """`created` as ISO 8601 in UTC to the millisecond, as `datetime.isoformat` writes
        it; the date and time of day are formatted once per second."""
        micro = round(created * 1_000_000)
        second, millis = micro // 1_000_000, micro // 1000 % 1000
        if second != self._second[0]:
            self._second = (
                second,
                datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            )
        return f"{self._second[1]}.{millis:03d}+00:00"

    def line(
        self, created: float, level: str, logger: str, message: str, fields: dict[str, Any]
    ) -> dict[str, Any]:
        """One line's object: its time, level, logger and message, then `fields`."""
        ts = self.timestamp(created)
        return {"ts": ts, "level": level, "logger": logger, "msg": message, **fields}

    def format(self, record: logging.LogRecord) -> str:
        level = record.levelname.lower()
        if isinstance(record, Lines):  # the whole batch in one call to the encoder
            lines = [
                self.line(created, level, record.name, message, fields)
                for created, message, fields in record.entries
            ]
            return _encoder.encode_lines(lines)[:-1].decode()
        fields = {f: v for f in FIELDS if (v := getattr(record, f, None)) is not None}
        line = self.line(record.created, level, record.name, record.getMessage(), fields)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return _encode(line).decode()


FLUSH_SECONDS = 0.1


class BatchedHandler(logging.Handler):
    """Buffers records (a `deque.append`, atomic, so no lock on the caller's side) with
    the request id of the request being handled, for `writer_loop` to write."""

    def __init__(self) -> None:
        super().__init__()
        self.records: deque[logging.LogRecord] = deque()
        self.urgent = threading.Event()
        self.stopping = False

    def handle(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        self.records.append(record)
        if record.levelno >= logging.WARNING:
            self.urgent.set()
        return True

    def emit(self, record: logging.LogRecord) -> None:
        self.handle(record)

    def writer_loop(self, output: logging.StreamHandler[Any]) -> None:
        while not self.stopping:
            self.urgent.wait(FLUSH_SECONDS)
            self.urgent.clear()
            self.write(output)
        self.write(output)

    def write(self, output: logging.StreamHandler[Any]) -> None:
        lines = []
        while self.records:
            record = self.records.popleft()
            try:
                lines.append(output.format(record))
            except Exception as exc:  # a bad record must not end the writer: say which
                said = f"unformattable log record: {record.msg!r} ({type(exc).__name__}: {exc})"
                lines.append(
                    output.format(
                        logging.makeLogRecord(
                            {
                                "name": record.name,
                                "levelno": logging.ERROR,
                                "levelname": "ERROR",
                                "msg": said,
                            }
                        )
                    )
                )
        if lines:
            output.stream.write("\n".join(lines) + "\n")
            output.flush()

    def stop(self, writer: threading.Thread) -> None:
        self.stopping = True
        self.urgent.set()
        writer.join(timeout=5)


def formatter(settings: Settings) -> logging.Formatter:
    return JsonFormatter() if settings.logs_as_json else TextFormatter()


_handler: BatchedHandler | None = None


def configure_logging(settings: Settings) -> None:
    """Send every record of this process through the buffer to stderr (once per process)."""
    global _handler
    if _handler is not None:
        return
    _handler = BatchedHandler()
    output = logging.StreamHandler(sys.stderr)
    output.setFormatter(formatter(settings))
    writer = threading.Thread(
        target=_handler.writer_loop, args=(output,), name="log-writer", daemon=True
    )
    writer.start()
    atexit.register(_handler.stop, writer)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(_handler)
    root.setLevel(logging.INFO)
    # httpx logs every request's whole URL at INFO, and a webhook receiver's URL can be its
    # credential; the deliveries are logged by endpoint and delivery id (`api.webhooks`).
    logging.getLogger("httpx").setLevel(logging.WARNING)


def granian_log_config(settings: Settings) -> dict[str, Any]:
    """Granian's own loggers, in the same format on stderr (its dictConfig form)."""
    fmt: dict[str, Any] = (
        {"()": "api.logs.JsonFormatter"}
        if settings.logs_as_json
        else {"()": "api.logs.TextFormatter"}
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
