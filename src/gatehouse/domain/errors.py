"""Errors the domain raises when a rule is broken."""


class DomainError(Exception):
    """Base of every rule the domain enforces."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidValueError(DomainError):
    """A value does not satisfy its rules; `field` names the input it came from."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class PermissionDeniedError(DomainError):
    """The actor is known but is not allowed to do this."""


class LastAdminError(DomainError):
    """The change would leave the service without an active admin."""


class IllegalTransitionError(DomainError):
    """The requested state change is not one of the allowed moves."""


class MfaEnrollmentRequiredError(PermissionDeniedError):
    """The account's role must use MFA and it has not enrolled yet."""
