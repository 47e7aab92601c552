"""The origin of the work in progress (client IP, request id), carried in a context variable."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from gatehouse.application.ports.audit import Origin, OriginScope

_NONE = Origin()  # frozen, so sharing it as the default is safe
_CURRENT: ContextVar[Origin] = ContextVar("gatehouse_origin", default=_NONE)


class ContextOrigin(OriginScope):
    """The HTTP middleware binds each request's origin; the CLI binds one per command."""

    def current(self) -> Origin:
        return _CURRENT.get()

    @contextmanager
    def binding(self, origin: Origin) -> Iterator[None]:
        token = _CURRENT.set(origin)
        try:
            yield
        finally:
            _CURRENT.reset(token)
