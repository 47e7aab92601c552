"""Password strength policies: the classic composition rule and NIST SP 800-63B."""

from collections.abc import Set
from typing import Protocol

from gatehouse.domain.errors import InvalidValueError
from gatehouse.domain.values import Email, RawPassword, Username

FIELD = "password"


class PasswordPolicy(Protocol):
    """Decides whether a password may be set for an account."""

    def check(self, password: RawPassword, *, email: Email, username: Username) -> None:
        """Raise `InvalidValueError` naming what is wrong, or return when acceptable."""


class ClassicPasswordPolicy(PasswordPolicy):
    """8–128 characters with an upper-case letter, a lower-case letter and a digit."""

    def check(self, password: RawPassword, *, email: Email, username: Username) -> None:
        text = password.value
        if not 8 <= len(text) <= 128:
            raise InvalidValueError(FIELD, "Password must be 8-128 characters")
        if not any(c.isupper() for c in text):
            raise InvalidValueError(FIELD, "Password must contain an upper-case letter")
        if not any(c.islower() for c in text):
            raise InvalidValueError(FIELD, "Password must contain a lower-case letter")
        if not any(c.isdigit() for c in text):
            raise InvalidValueError(FIELD, "Password must contain a digit")


class NistPasswordPolicy(PasswordPolicy):
    """NIST SP 800-63B: 15–128 characters, no composition rule, nothing guessable.

    - rejected when it is on the common-password list (compared lower-cased);
    - rejected when it contains the email's local part or the username (case-insensitive).
    """

    def __init__(self, common_passwords: Set[str]) -> None:
        self._common = common_passwords

    def check(self, password: RawPassword, *, email: Email, username: Username) -> None:
        text = password.value
        if not 15 <= len(text) <= 128:
            raise InvalidValueError(FIELD, "Password must be 15-128 characters")
        folded = text.lower()
        if folded in self._common:
            raise InvalidValueError(FIELD, "Password is too common")
        if email.local_part in folded or username.canonical in folded:
            raise InvalidValueError(FIELD, "Password must not contain the email or username")
