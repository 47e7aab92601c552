"""Pages of any listing: numbered pages with a total, and keyset pages that resume after a key."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

T = TypeVar("T")

SortValue = int | str | datetime


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """A numbered page: its items, and how many match in all."""

    items: Sequence[T]
    total: int


@dataclass(frozen=True, slots=True)
class After:
    """Where a cursor page resumes: strictly after (sort value, id) in the walk's order."""

    value: SortValue
    id: int


@dataclass(frozen=True, slots=True)
class KeysetPage(Generic[T]):
    """A cursor page: its items, and where the next one resumes (None: this is the last)."""

    items: Sequence[T]
    next_after: After | None


class KeysetQuery(Protocol):
    """The query of a cursor walk, which a cursor issued for it is bound to."""

    def scope(self) -> str:
        """The listing, its filters and its order (never the position or the page size), as text.

        Cursors already issued carry it: the strings of a listing must stay byte for byte.
        """
        ...


class HasId(Protocol):
    @property
    def id(self) -> int: ...


def keyset_page(found: Sequence[T], limit: int, resume: Callable[[T], After]) -> KeysetPage[T]:
    """The first `limit` of `found`, fetched one deeper: an item past `limit` means a next page,
    which resumes after this page's last item (`resume(last)`)."""
    page = found[:limit]
    return KeysetPage(page, resume(page[-1]) if len(found) > limit and page else None)


def after_id(item: HasId) -> After:
    """Where a walk in id order resumes after `item`."""
    return After(item.id, item.id)
