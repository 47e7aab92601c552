"""The origin of the work in progress (client IP, request id), carried in a context variable."""

from contextvars import ContextVar, Token

from gatehouse.application.ports.audit import Origin, OriginSource

_NONE = Origin()  # frozen, so sharing it as the default is safe
_CURRENT: ContextVar[Origin] = ContextVar("gatehouse_origin", default=_NONE)


class ContextOrigin(OriginSource):
    """The HTTP middleware binds each request's origin; the CLI binds one per command."""

    def current(self) -> Origin:
        return _CURRENT.get()

    @staticmethod
    def bind(origin: Origin) -> Token[Origin]:
        return _CURRENT.set(origin)

    @staticmethod
    def reset(token: Token[Origin]) -> None:
        _CURRENT.reset(token)
