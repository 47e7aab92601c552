"""Errors raised by the HTTP driver itself, before a use case runs."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    message: str


class BadRequestError(Exception):
    """400: malformed JSON, a bad query or path parameter, an unsupported API version."""

    def __init__(self, message: str, details: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class BodyValidationError(Exception):
    """422: well-formed JSON that breaks the schema (wrong type, missing or unknown field)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.details = [FieldProblem(field, message)]
