"""Typed errors raised by services; entry points map them to HTTP responses in one place
(chalicelib/http.py). Every message is safe to show to the caller."""

from __future__ import annotations


class SrvpulseError(Exception):
    status_code = 400
    # The request field the error is about (dotted path), when there is one.
    field: str | None = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(SrvpulseError):
    """Bad input; ``field`` names the offending field (dotted path) when there is one."""

    status_code = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class Unauthorized(SrvpulseError):
    status_code = 401


class Forbidden(SrvpulseError):
    status_code = 403


class NotFound(SrvpulseError):
    status_code = 404


class Conflict(SrvpulseError):
    """The request collides with the current state (e.g. a slug another check has)."""

    status_code = 409

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class RateLimited(SrvpulseError):
    status_code = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(SrvpulseError):
    status_code = 503

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after
