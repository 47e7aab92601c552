"""The scopes of CONTRACT §13, in the order of its table: written here from the contract, not read
from the code, so the tests that use them notice when the code drifts."""

CONTRACT_SCOPES = [
    "profile:read",
    "profile:write",
    "orders:read",
    "orders:write",
    "users:read",
    "users:write",
    "audit:read",
    "introspect",
]
