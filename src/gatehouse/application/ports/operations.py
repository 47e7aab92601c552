"""Operations: whether the backing services answer, and the state of the database schema."""

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Reachable(Protocol):
    """A backing service the readiness probe asks after (the database, Redis)."""

    async def answers(self) -> bool:
        """Whether it answers now, within a couple of seconds; never raises."""
        ...


class SchemaState(StrEnum):
    MISSING = "missing"
    OUTDATED = "outdated"
    CURRENT = "current"
    NEWER = "newer than this release"  # migrated by a later Gatehouse: a revision we don't know


@dataclass(frozen=True, slots=True)
class Upgrade:
    """What an upgrade did: the revision before (None: no schema yet) and after."""

    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


class Schema(Protocol):
    """The database schema and the migrations that ship with this release.

    Both methods raise `ServiceUnavailableError` when the database can't be reached or opened."""

    def describe(self) -> str:
        """The database, as an operator may see it (never with its password)."""
        ...

    async def state(self) -> SchemaState: ...

    async def upgrade(self) -> Upgrade:
        """Create or migrate the schema to the newest revision, in one transaction."""
        ...
