"""A marker for 'not sent', distinct from an explicit null, used by partial updates."""

from enum import Enum
from typing import Final, Literal


class _Unset(Enum):
    UNSET = "UNSET"

    def __bool__(self) -> Literal[False]:
        return False


UNSET: Final = _Unset.UNSET
Unset = Literal[_Unset.UNSET]
