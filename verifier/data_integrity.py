"""Generic Data Integrity proof handling (VC Data Integrity 1.0, sections 4.2-4.5): add a
proof, and verify the proofs of a secured document (proof sets and chains)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import cryptosuite
from .errors import ProofError, VerifierError
from .key_resolution import DocumentSource, ResolvedKey, resolve_verification_method
from .timeutil import format_datetime, parse_datetime


def add_proof(
    unsecured_document: dict[str, Any],
    *,
    verification_method: str,
    sign: Callable[[bytes], bytes],
    created: datetime,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """A new secured document: the input plus an eddsa-rdfc-2022 DataIntegrityProof."""
    if "proof" in unsecured_document:
        raise ProofError("The document already has a proof; sign an unsecured document.")
    options = {
        "type": "DataIntegrityProof",
        "cryptosuite": cryptosuite.CRYPTOSUITE,
        "created": format_datetime(created),
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    proof = cryptosuite.create_proof(unsecured_document, options, sign)
    secured = dict(unsecured_document)
    secured["proof"] = proof
    return secured


@dataclass(frozen=True)
class ProofResult:
    """The outcome for one proof of a document."""

    proof: dict[str, Any]
    verified: bool
    key: ResolvedKey | None = None
    error: VerifierError | None = None
    supported: bool = True


def proofs_of(document: dict[str, Any]) -> list[Any]:
    """The document's proofs as a list (a single proof object is a set of one)."""
    proof = document.get("proof")
    if proof is None:
        return []
    return proof if isinstance(proof, list) else [proof]


def verify_proofs(
    secured_document: dict[str, Any],
    *,
    documents: DocumentSource | None = None,
    expected_purpose: str = "assertionMethod",
) -> list[ProofResult]:
    """Verify every proof; unsupported proof types are reported, not failed."""
    proofs = proofs_of(secured_document)
    unsecured = {key: value for key, value in secured_document.items() if key != "proof"}
    return [_verify_one(unsecured, proof, proofs, documents, expected_purpose) for proof in proofs]


def _verify_one(unsecured, proof, all_proofs, documents, expected_purpose) -> ProofResult:
    if not isinstance(proof, dict):
        return ProofResult({}, False, error=ProofError("A proof is not a JSON object."))
    if not cryptosuite.is_supported(proof):
        return ProofResult(proof, False, supported=False)
    try:
        _check_proof_options(proof, expected_purpose)
        key = resolve_verification_method(proof.get("verificationMethod"), documents)
        document = _with_previous_proofs(unsecured, proof, all_proofs)
        ok = cryptosuite.verify_proof_value(document, proof, key.public_key)
    except VerifierError as exc:
        return ProofResult(proof, False, error=exc)
    if not ok:
        return ProofResult(
            proof, False, key=key,
            error=ProofError("The signature does not match the credential: it was changed after "
                             "signing, or signed with another key.", code="signature_mismatch"),
        )
    return ProofResult(proof, True, key=key)


def _check_proof_options(proof: dict[str, Any], expected_purpose: str) -> None:
    """4.3 step 4-5: proof purpose and a well-formed created date."""
    if proof.get("proofPurpose") != expected_purpose:
        raise ProofError(
            f"The proof's purpose is {proof.get('proofPurpose')!r}, not {expected_purpose!r}.",
            code="proof_purpose_mismatch",
        )
    created = proof.get("created")
    if created is not None and parse_datetime(created) is None:
        raise ProofError(f"The proof's created date {created!r} is not a valid date-time.",
                         code="proof_created_invalid")


def _with_previous_proofs(unsecured, proof, all_proofs) -> dict[str, Any]:
    """4.5 proof chains: a proof with previousProof covers the proofs it names."""
    previous = proof.get("previousProof")
    if previous is None:
        return unsecured
    wanted = previous if isinstance(previous, list) else [previous]
    matching = [p for p in all_proofs if isinstance(p, dict) and p.get("id") in wanted]
    if len(matching) != len(wanted):
        raise ProofError("The proof chain names a previous proof that is missing.", code="proof_chain_broken")
    document = copy.copy(unsecured)
    document["proof"] = matching[0] if len(matching) == 1 else matching
    return document
