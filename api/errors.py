"""Domain errors: what the domain says when it refuses, mapped to HTTP in one place (the app).

The domain never raises HTTP exceptions; a route, a console form and a CLI command all get
the same error with the same words.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base: `detail` is what a person reads (English, as programs get it); `zh`, where
    given, is the same in Chinese for the console's readers."""

    status = 400

    def __init__(self, detail: str, zh: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.zh = zh

    def said_in(self, lang: str) -> str:
        """The refusal in the reader's language (English where no Chinese was written)."""
        return self.zh if lang == "zh" and self.zh else self.detail


class NotFound(DomainError):
    """No such thing, or one the caller may not see (scopes leak no names)."""

    status = 404


class Forbidden(DomainError):
    """The caller's role may not do this."""

    status = 403


class Conflict(DomainError):
    """Not in this state (a workflow step out of turn, nothing left to issue)."""

    status = 409


class Invalid(DomainError):
    """The request is well-formed but its content cannot be used."""

    status = 422


class TooLarge(DomainError):
    """An upload or body over its limit."""

    status = 413


class Unauthorized(DomainError):
    """No key, an unknown key, or no console login."""

    status = 401


class Unavailable(DomainError):
    """Nothing is wrong with the request, but the service cannot answer it now (the
    database locked past its busy timeout, or unreachable): try again shortly."""

    status = 503
    retry_after_s = 5
