"""Fixtures every level shares."""

import io
import logging
from collections.abc import Iterator

import pytest

from gatehouse.adapters.argon2_hasher import Argon2Parameters, Argon2PasswordHasher
from gatehouse.entrypoints.logs import JsonLinesFormatter

# Real argon2id, but cheap: tests exercise the code path, `make bench` the cost.
TEST_ARGON2 = Argon2Parameters(time_cost=1, memory_cost_kib=1024, parallelism=1)
TEST_SECRET = "test-signing-secret-that-is-long-enough-0123456789"
TEST_DATA_KEY = "test-data-key-that-is-long-enough-and-not-the-secret"


@pytest.fixture
def fast_hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(TEST_ARGON2, workers=2, max_queue=64)


@pytest.fixture(autouse=True)
def no_hash_in_any_log_line() -> Iterator[None]:
    """Across the whole suite: whatever is logged (as the production formatter writes it, stack
    traces included) never holds a password hash, whatever the test did (§7)."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonLinesFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    leaked = [line for line in buffer.getvalue().splitlines() if "$argon2" in line]
    assert not leaked, f"a log line holds a password hash: {leaked[0][:300]}"
