"""Typed OAuth 2.0 / OpenID4VCI errors: `code` is the protocol's error code, `message` its description.

Token endpoint: RFC 6749 §5.2 and OID4VCI 1.0 §6.3. Credential endpoint: RFC 6750 §3.1 (the access
token) and OID4VCI 1.0 §8.3.1.2 (the request). Views turn them into {"error", "error_description"}.
The protocols answer each with HTTP 400 (so they are InvalidInput), a bad access token with 401.
"""

from __future__ import annotations

from ...errors import InvalidInput, NotAuthenticated


class OAuthError(InvalidInput):
    """Base class. `commit` is True when the refusal itself changed state that must be kept (a wrong
    PIN is counted), so the caller commits the transaction before answering."""

    code = "invalid_request"
    commit = False

    def __init__(self, message: str, *, commit: bool = False) -> None:
        super().__init__(message)
        self.commit = commit


# --- token endpoint (RFC 6749 §5.2, OID4VCI §6.3) ---------------------------------------------


class InvalidRequest(OAuthError):
    code = "invalid_request"


class InvalidGrant(OAuthError):
    code = "invalid_grant"


class UnsupportedGrantType(OAuthError):
    code = "unsupported_grant_type"


# --- credential endpoint (RFC 6750 §3.1, OID4VCI §8.3.1.2) ------------------------------------


class InvalidToken(NotAuthenticated, OAuthError):
    """The access token is missing, unknown or expired: 401 with a WWW-Authenticate challenge."""

    code = "invalid_token"


class InvalidCredentialRequest(OAuthError):
    code = "invalid_credential_request"


class UnknownCredentialConfiguration(OAuthError):
    code = "unknown_credential_configuration"


class UnknownCredentialIdentifier(OAuthError):
    code = "unknown_credential_identifier"


class InvalidProof(OAuthError):
    code = "invalid_proof"


class InvalidNonce(OAuthError):
    code = "invalid_nonce"


class CredentialRequestDenied(OAuthError):
    """The credential cannot be delivered (revoked, suspended, expired): the wallet should not retry."""

    code = "credential_request_denied"


class MissingToken(InvalidToken):
    """No access token at all: RFC 6750 §3.1 says the challenge then carries no error code."""
