"""The eddsa-rdfc-2022 cryptosuite (W3C Data Integrity EdDSA Cryptosuites v1.0, section 3.3).

Each function is one step of the specification, named after it. The same algorithm
also verifies the legacy `eddsa-2022` name and `Ed25519Signature2020` proofs, which
differ only in how the proof is labelled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .canonicalization import canonicalize, canonicalize_proof_configuration
from .errors import KeyFormatError, ProofError
from .multikey import multibase_decode, multibase_encode

CRYPTOSUITE = "eddsa-rdfc-2022"
LEGACY_CRYPTOSUITES = frozenset({"eddsa-2022"})
ED25519_SIGNATURE_2020 = "Ed25519Signature2020"


def transformation(unsecured_document: dict[str, Any]) -> str:
    """3.3.3 Transformation: RDFC-1.0 canonical N-Quads of the document (safe mode)."""
    return canonicalize(unsecured_document)


def proof_configuration(proof_options: dict[str, Any], document_context: Any) -> str:
    """3.3.5 Proof Configuration: the proof options as written (legacy labels included: that is
    what was signed), with the document's @context, canonicalized."""
    if not is_supported(proof_options):
        raise ProofError("The proof options are not those of a DataIntegrityProof with eddsa-rdfc-2022.")
    config = {key: value for key, value in proof_options.items() if key != "proofValue"}
    config["@context"] = document_context
    return canonicalize_proof_configuration(config)


def hashing(transformed_document: str, canonical_proof_config: str) -> bytes:
    """3.3.4 Hashing: SHA-256(proof configuration) followed by SHA-256(document)."""
    return (
        hashlib.sha256(canonical_proof_config.encode("utf-8")).digest()
        + hashlib.sha256(transformed_document.encode("utf-8")).digest()
    )


def proof_serialization(hash_data: bytes, sign: Callable[[bytes], bytes]) -> str:
    """3.3.6 Proof Serialization: Ed25519 signature, multibase base58btc."""
    return multibase_encode(sign(hash_data))


def proof_verification(hash_data: bytes, proof_bytes: bytes, public_key: bytes) -> bool:
    """3.3.7 Proof Verification: Ed25519 verify of the hash data."""
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(proof_bytes, hash_data)
    except InvalidSignature:
        return False
    except ValueError as exc:
        raise KeyFormatError("The public key is not a valid Ed25519 key.") from exc
    return True


def create_proof(
    unsecured_document: dict[str, Any],
    proof_options: dict[str, Any],
    sign: Callable[[bytes], bytes],
) -> dict[str, Any]:
    """3.3.1 Create Proof: returns the proof (options plus proofValue); the document is unchanged."""
    proof = dict(proof_options)
    canonical_config = proof_configuration(proof, unsecured_document.get("@context"))
    transformed = transformation(unsecured_document)
    proof["proofValue"] = proof_serialization(hashing(transformed, canonical_config), sign)
    return proof


def verify_proof_value(
    unsecured_document: dict[str, Any], proof: dict[str, Any], public_key: bytes
) -> bool:
    """3.3.2 Verify Proof (hash and signature part) for any of the supported proof labels.

    Raises ProofError for a malformed proof, CanonicalizationError (and subclasses)
    when the document cannot be canonicalized in safe mode.
    """
    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str):
        raise ProofError("The proof has no proofValue.", code="proof_value_missing")
    try:
        proof_bytes = multibase_decode(proof_value)
    except KeyFormatError as exc:
        raise ProofError("The proofValue is not base58btc multibase.", code="proof_value_malformed") from exc
    if len(proof_bytes) != 64:
        raise ProofError("The proofValue is not a 64-byte Ed25519 signature.", code="proof_value_malformed")
    canonical_config = proof_configuration(proof, unsecured_document.get("@context"))
    transformed = transformation(unsecured_document)
    return proof_verification(hashing(transformed, canonical_config), proof_bytes, public_key)


def is_supported(proof: dict[str, Any]) -> bool:
    """True for proofs this cryptosuite can check."""
    if proof.get("type") == ED25519_SIGNATURE_2020:
        return True
    return proof.get("type") == "DataIntegrityProof" and (
        proof.get("cryptosuite") == CRYPTOSUITE or proof.get("cryptosuite") in LEGACY_CRYPTOSUITES
    )
