"""Pages of any listing: numbered pages with a total, and keyset pages that resume after a key."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

T = TypeVar("T")

SortValue = int | str | datetime


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int


@dataclass(frozen=True, slots=True)
class After:
    """Where a cursor page resumes: strictly after (sort value, id) in the walk's order."""

    value: SortValue
    id: int


@dataclass(frozen=True, slots=True)
class KeysetPage(Generic[T]):
    items: Sequence[T]
    next_after: After | None
