"""Self-validating value objects of the identity model."""

import re
from dataclasses import dataclass, field
from enum import StrEnum

from gatehouse.domain.errors import InvalidValueError

EMAIL_PATTERN = re.compile(r"^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$")
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9_]{3,50}$")
EMAIL_MAX_LENGTH = 254
FULL_NAME_MAX_LENGTH = 200
PASSWORD_MAX_LENGTH = 128


class Role(StrEnum):
    """What an account may do; ordered from most to least powerful."""

    ADMIN = "admin"
    MODERATOR = "moderator"
    USER = "user"


@dataclass(frozen=True, slots=True)
class Email:
    """An email address, stored and compared lower-cased."""

    value: str

    def __post_init__(self) -> None:
        if len(self.value) > EMAIL_MAX_LENGTH or not EMAIL_PATTERN.fullmatch(self.value):
            raise InvalidValueError("email", "Invalid email format")
        object.__setattr__(self, "value", self.value.lower())

    @property
    def local_part(self) -> str:
        return self.value.split("@", 1)[0]


@dataclass(frozen=True, slots=True)
class Username:
    """3–50 characters of letters, digits and underscore; unique regardless of case."""

    value: str

    def __post_init__(self) -> None:
        if not USERNAME_PATTERN.fullmatch(self.value):
            raise InvalidValueError(
                "username", "Username must be 3-50 characters of letters, digits and underscore"
            )

    @property
    def canonical(self) -> str:
        """The form uniqueness and look-ups compare."""
        return self.value.lower()


@dataclass(frozen=True, slots=True)
class FullName:
    """A display name of at most 200 characters."""

    value: str

    def __post_init__(self) -> None:
        if len(self.value) > FULL_NAME_MAX_LENGTH:
            raise InvalidValueError("full_name", "Full name must be at most 200 characters")
        if "\x00" in self.value:  # no engine stores it alike: PostgreSQL refuses it, SQLite keeps it
            raise InvalidValueError("full_name", "Full name must not contain a NUL character")


@dataclass(frozen=True, slots=True)
class RawPassword:
    """A password as typed; never shown by repr, so it cannot reach a log line.

    Only its length is checked here; strength is the configured `PasswordPolicy`'s job.
    """

    value: str = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.value) > PASSWORD_MAX_LENGTH:
            raise InvalidValueError("password", "Password must be at most 128 characters")


def parse_role(value: str) -> Role:
    """The role named by `value`, or an `InvalidValueError` for the `role` field."""
    try:
        return Role(value)
    except ValueError:
        raise InvalidValueError("role", "Role must be one of admin, moderator, user") from None
