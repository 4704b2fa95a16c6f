"""microcred's verification library: Open Badges 3.0 credentials, no Flask, no database.

Public surface: verify_credential, the report types, the errors, and the signing
primitives the issuer uses (add_proof, canonicalize).
"""

from .canonicalization import canonicalize
from .data_integrity import add_proof, verify_proofs
from .errors import (
    CanonicalizationError,
    DocumentLoaderError,
    KeyFormatError,
    KeyResolutionError,
    ProofError,
    UndefinedTermError,
    VerifierError,
)
from .report import CHECK_IDS, Check, Problem, Status, VerificationReport
from .verify import verify_credential

__all__ = [
    "CHECK_IDS", "CanonicalizationError", "Check", "DocumentLoaderError", "KeyFormatError",
    "KeyResolutionError", "Problem", "ProofError", "Status", "UndefinedTermError",
    "VerificationReport", "VerifierError", "add_proof", "canonicalize", "verify_credential",
    "verify_proofs",
]
