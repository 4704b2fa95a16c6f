"""Typed exceptions of the verification library; each carries a stable code and a human message."""

from __future__ import annotations


class VerifierError(Exception):
    """Base class: `code` is stable (reports, API), `message` is for people."""

    code = "verifier_error"
    title = "Verification error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code


class KeyFormatError(VerifierError):
    code = "key_format"
    title = "Key is not in a supported format"


class DocumentLoaderError(VerifierError):
    """A JSON-LD document (context) was requested that is not pinned in the package."""

    code = "context_not_allowed"
    title = "Unknown JSON-LD context"


class CanonicalizationError(VerifierError):
    """RDFC-1.0 could not process the document (JSON-LD error, or safe mode refused it)."""

    code = "canonicalization_failed"
    title = "The credential could not be canonicalized"


class UndefinedTermError(CanonicalizationError):
    """Safe mode: a property or type is not defined by the document's contexts."""

    code = "undefined_term"
    title = "Term not defined by the credential's contexts"


class ProofError(VerifierError):
    code = "proof_invalid"
    title = "The proof is not valid"


class KeyResolutionError(VerifierError):
    code = "key_unresolved"
    title = "The signing key could not be found"


class SchemaError(VerifierError):
    code = "schema_invalid"
    title = "The document does not match the Open Badges 3.0 schema"
