"""Typed errors of the issuing service: a stable code, a human message, an HTTP status."""

from __future__ import annotations


class IssuerError(Exception):
    code = "issuer_error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code

    def with_status(self, status: int) -> "IssuerError":
        """The same error answered with another HTTP status."""
        self.http_status = status
        return self


class NotInitialisedError(IssuerError):
    code = "not_initialised"
    http_status = 503


class UnknownAchievementError(IssuerError):
    code = "unknown_achievement"
    http_status = 404


class InvalidRecipientError(IssuerError):
    code = "invalid_recipient"


class CredentialInvalidError(IssuerError):
    """The built credential failed the schema or its own verification: it is never stored."""

    code = "credential_invalid"
    http_status = 500


class ConfigError(IssuerError):
    """A setting is wrong; the message names the variable."""

    code = "invalid_configuration"
    http_status = 503
