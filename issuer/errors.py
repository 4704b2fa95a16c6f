"""Typed errors of the issuing service: a stable code, a human message, and a kind.

Services raise errors of one of the kinds below and never choose an HTTP status; the web layer maps
each kind to a status in one place (issuer/views/errors.py), the CLI every error to one line and an
exit code (issuer/cli/errors.py). A package's own base class carries the kind most of its errors
are (`class SubmissionError(InvalidInput)`); an error of another kind names that kind first, so it
comes first in the class's MRO (`class StaleForm(Conflict, SubmissionError)`): `kind_of` reads it.
"""

from __future__ import annotations


class IssuerError(Exception):
    """The base of every error the service raises on purpose; `code` is stable, `message` is for people."""

    code = "issuer_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


# --- the kinds --------------------------------------------------------------------------------


class InvalidInput(IssuerError):
    """What was given cannot be used as it is (a form field, a file, an argument); say what to change."""

    code = "invalid_input"


class TooLarge(InvalidInput):
    """What was given is larger than the limit the message names."""

    code = "too_large"


class NotAuthenticated(IssuerError):
    """Nobody is signed in, or the sign-in (or a wallet's token) is not right."""

    code = "not_authenticated"


class Forbidden(IssuerError):
    """Refused: this actor may not do this (a role, ownership, a rule about who does what)."""

    code = "forbidden"


class NotFound(IssuerError):
    """The thing named does not exist (or is not visible to this actor)."""

    code = "not_found"


class Conflict(IssuerError):
    """The request is valid but the current state refuses it (already decided, changed meanwhile, a cap)."""

    code = "conflict"


class Gone(IssuerError):
    """The thing existed but is no longer available (an expired link, a purged batch)."""

    code = "gone"


class Throttled(IssuerError):
    """Too many attempts or too much running at once; the message says when to try again."""

    code = "throttled"


class Unavailable(IssuerError):
    """The service cannot do this now: a setting, the signing key, the instance is not initialised."""

    code = "unavailable"


class InternalFailure(IssuerError):
    """Our own data or output failed a check it must pass; nothing was stored (a bug or a broken instance)."""

    code = "internal_failure"


KINDS: tuple[type[IssuerError], ...] = (InvalidInput, TooLarge, NotAuthenticated, Forbidden, NotFound, Conflict, Gone,
                                       Throttled, Unavailable, InternalFailure)


def kind_of(error: IssuerError) -> type[IssuerError]:
    """The error's kind: the first of KINDS in its class's MRO (IssuerError itself when it has none)."""
    return next((cls for cls in type(error).__mro__ if cls in KINDS), IssuerError)


# --- errors of the core, used across the domains ------------------------------------------------


class NotInitialisedError(Unavailable):
    code = "not_initialised"


class ConfigError(Unavailable):
    """A setting is wrong; the message names the variable."""

    code = "invalid_configuration"


class UnknownAchievementError(NotFound):
    code = "unknown_achievement"


class InvalidRecipientError(InvalidInput):
    code = "invalid_recipient"


class CredentialInvalidError(InternalFailure):
    """The built credential failed the schema or its own verification: it is never stored."""

    code = "credential_invalid"
