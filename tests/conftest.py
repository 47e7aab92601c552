"""Fixtures every level shares."""

import pytest

from gatehouse.adapters.argon2_hasher import Argon2Parameters, Argon2PasswordHasher

# Real argon2id, but cheap: tests exercise the code path, `make bench` the cost.
TEST_ARGON2 = Argon2Parameters(time_cost=1, memory_cost_kib=1024, parallelism=1)
TEST_SECRET = "test-signing-secret-that-is-long-enough-0123456789"


@pytest.fixture
def fast_hasher() -> Argon2PasswordHasher:
    return Argon2PasswordHasher(TEST_ARGON2, workers=2, max_queue=64)
