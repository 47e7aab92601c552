"""JSON-lines logging on stdout: one object per line, with the event's own fields."""

import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

# Libraries whose exception texts quote the values they were handed.
QUOTING_LIBRARIES = frozenset({"sqlalchemy", "asyncpg", "aiosqlite", "sqlite3", "psycopg", "redis"})
STANDARD_ATTRIBUTES = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


class JsonLinesFormatter(logging.Formatter):
    """`timestamp`, `level`, `logger`, `event`, the record's extra fields, and a stack trace if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if entry["event"] != record.getMessage():
            entry["message"] = record.getMessage()  # an `event` name was given: keep the prose too
        if record.exc_info and record.exc_info[1] is not None:
            entry["stack_trace"] = stack_trace(record.exc_info[1])
        return json.dumps(entry, default=str)


def stack_trace(exc: BaseException) -> str:
    """The chain of tracebacks with every exception's type and frames, and its message unless it
    comes from a database or cache client, whose texts quote what they were given (a statement's
    parameters: a password hash, an email; a value that did not fit)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    parts = []
    for error in reversed(chain):
        kind = type(error)
        text = str(error)
        if text and kind.__module__.split(".")[0] in QUOTING_LIBRARIES:
            text = "(message withheld: it may quote parameters)"
        frames = "".join(traceback.format_tb(error.__traceback__))
        name = (
            kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
        )
        parts.append(f"Traceback (most recent call last):\n{frames}{name}{': ' + text if text else ''}")
    return "\n\nwhich led to\n\n".join(parts)


QUOTING_LOGGERS = ("aiosqlite", "aiosmtplib")


def configure_logging(level: str = "INFO") -> None:
    """Route every logger (ours, uvicorn's, the libraries') through one JSON handler."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonLinesFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # api_request replaces it
    # Drivers that quote what they send at DEBUG (aiosqlite: every statement with its parameters,
    # password hashes among them; aiosmtplib: the message): never below INFO, whatever the level.
    for name in QUOTING_LOGGERS:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level.upper())))
