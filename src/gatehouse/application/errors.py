"""Errors a use case raises that are about the request, not a domain rule."""


class ApplicationError(Exception):
    """Base of the application's own errors."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(ApplicationError):
    """No such resource, or not one the caller may know of."""


class ConflictError(ApplicationError):
    """The request clashes with the current state (a duplicate, a request still running)."""


class AuthenticationError(ApplicationError):
    """No valid credentials: a bad, expired or revoked token, or a wrong password."""


class PreconditionFailedError(ApplicationError):
    """The client's `If-Match` version is not the current one."""


class RateLimitedError(ApplicationError):
    """Too many attempts; `retry_after` seconds until the window passes."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class ServiceUnavailableError(ApplicationError):
    """A dependency is saturated or down; the request may be retried after `retry_after` s."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class CountersUnavailableError(ApplicationError):
    """The shared counter store can't be reached; callers decide whether to fail open."""


class MailDeliveryError(ApplicationError):
    """One delivery attempt failed (server unreachable, refused, timed out); the mail is retried."""


class InvalidTokenError(ApplicationError):
    """A verification or reset token that is unknown, spent, expired or no longer applies (400)."""


class SecretUnreadableError(ServiceUnavailableError):
    """A secret sealed at rest does not open: another data key sealed it, or it was altered (503:
    the operator must restore the data key, or an admin reset the account's MFA)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retry_after=3600)


class MfaRequiredError(ApplicationError):
    """The password was right and the account uses MFA: the log-in goes on with a code (403)."""

    def __init__(self, mfa_token: str, expires_in: int) -> None:
        super().__init__("A second factor is required: send a code to /auth/token/mfa with the mfa_token")
        self.mfa_token = mfa_token
        self.expires_in = expires_in

    def __repr__(self) -> str:  # the token never reaches a log line through a repr
        return f"MfaRequiredError(expires_in={self.expires_in})"


class InvalidCodeError(ApplicationError):
    """A code that does not confirm a pending enrolment (400)."""
