"""The JSON-lines formatter never copies a library's exception text into a log line (§7)."""

import json
import logging
import sys

from sqlalchemy.exc import StatementError

from gatehouse.application.errors import ConflictError, ServiceUnavailableError
from gatehouse.entrypoints.logs import JsonLinesFormatter, stack_trace

HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$ZGlnZXN0ZGlnZXN0"


def _raise_chain() -> None:
    """A database error (its text quoting the parameters, as SQLAlchemy's does) under our own."""
    quoted = f"[parameters: ('a\\x00b', '{HASH}')]"
    try:
        raise StatementError("INSERT failed", "INSERT INTO users ...", quoted, ValueError())
    except StatementError as exc:
        raise ServiceUnavailableError("The database is unavailable", 2) from exc


def test_a_stack_trace_keeps_types_and_frames_but_no_library_message() -> None:
    try:
        _raise_chain()
    except ServiceUnavailableError as exc:
        text = stack_trace(exc)
    assert HASH not in text
    assert "[parameters" not in text
    assert "sqlalchemy.exc.StatementError: (message withheld" in text
    assert "ServiceUnavailableError: The database is unavailable" in text  # ours keep their words
    assert "_raise_chain" in text  # the frames are there to debug with
    assert text.index("StatementError") < text.index("ServiceUnavailableError")  # the cause first


def test_other_exceptions_keep_their_message() -> None:
    try:
        raise ConflictError("Email or username is already taken")
    except ConflictError as exc:
        ours = stack_trace(exc)
    try:
        raise RuntimeError("kaboom")
    except RuntimeError as exc:
        builtin = stack_trace(exc)
    assert "ConflictError: Email or username is already taken" in ours
    assert builtin.endswith("RuntimeError: kaboom")


def test_the_formatter_writes_the_safe_stack_trace() -> None:
    try:
        _raise_chain()
    except ServiceUnavailableError:
        record = logging.LogRecord("gatehouse", logging.ERROR, __file__, 1, "api_error", None, sys.exc_info())
    line = JsonLinesFormatter().format(record)
    entry = json.loads(line)
    assert entry["event"] == "api_error"
    assert "StatementError" in entry["stack_trace"]
    assert HASH not in line
