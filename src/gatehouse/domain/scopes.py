"""What an API token may be used for (CONTRACT §13): a scope opens routes, never more than the role."""

from collections.abc import Iterable
from enum import StrEnum

from gatehouse.domain.errors import InvalidValueError


class Scope(StrEnum):
    PROFILE_READ = "profile:read"
    PROFILE_WRITE = "profile:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    USERS_READ = "users:read"
    USERS_WRITE = "users:write"
    AUDIT_READ = "audit:read"
    INTROSPECT = "introspect"


ALL_SCOPES = frozenset(Scope)
# The order scopes are listed in: the table's order, whatever order they were asked in.
SCOPE_ORDER = {scope: n for n, scope in enumerate(Scope)}


def parse_scopes(names: Iterable[str], *, field: str = "scopes") -> frozenset[Scope]:
    """The scopes `names` ask for, at least one; an unknown name is refused (422 naming it)."""
    asked = list(names)
    if not asked:
        raise InvalidValueError(field, "Name at least one scope")
    known = {scope.value: scope for scope in Scope}
    unknown = sorted({name for name in asked if name not in known})
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:3])
        raise InvalidValueError(field, f"Unknown scope {shown}; the scopes are {', '.join(Scope)}")
    return frozenset(known[name] for name in asked)


def ordered(scopes: Iterable[Scope]) -> list[Scope]:
    return sorted(set(scopes), key=SCOPE_ORDER.__getitem__)
