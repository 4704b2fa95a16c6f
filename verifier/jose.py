"""JOSE on PyJWT: reading a compact JWS (RFC 7515), public keys from JWKs (RFC 7517), and
signature verification, for VC-JWT and Open Badges 2.0 signed assertions.

Accepted: RS256 (at least 2048-bit keys), EdDSA with Ed25519, ES256 on P-256. Never "none",
never a shared secret, never a private JWK, never an unknown critical header.
"""

from __future__ import annotations

import json
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .errors import ProofError, VerifierError

ALGORITHMS = ("RS256", "EdDSA", "ES256")
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
_KEY_TYPES = {"RS256": rsa.RSAPublicKey, "EdDSA": ed25519.Ed25519PublicKey, "ES256": ec.EllipticCurvePublicKey}
# enforce_minimum_key_length: a short RSA key is an error, not a warning (RFC 7518 §3.3).
_JWS = jwt.PyJWS(algorithms=list(ALGORITHMS), options={"enforce_minimum_key_length": True})


class JwsError(VerifierError):
    code = "jws_malformed"
    title = "Not a readable JWT"


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a compact JWS, nothing verified yet; raises JwsError."""
    try:
        decoded = _JWS.decode_complete(token.strip(), options={"verify_signature": False})
    except jwt.DecodeError as exc:
        raise JwsError(f"The JWT cannot be read: {exc}.") from None
    except jwt.InvalidTokenError as exc:  # e.g. a critical header this verifier does not implement
        raise JwsError(f"The JWT's header is not acceptable: {exc}.", code="jws_header_invalid") from None
    try:
        payload = json.loads(decoded["payload"].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise JwsError("The JWT's payload is not JSON.") from None
    if not isinstance(payload, dict):
        raise JwsError("The JWT's payload is not a JSON object.")
    return decoded["header"], payload


def public_key_from_jwk(jwk: Any, alg: str) -> PublicKey:
    """The public key of a JWK, fit for `alg`; raises ProofError (code key_format)."""
    if not isinstance(jwk, dict):
        raise ProofError("The JWK is not a JSON object.", code="key_format")
    if "d" in jwk or "k" in jwk:
        raise ProofError("The JWT carries a private or secret key; it is refused.", code="key_format")
    if alg not in _KEY_TYPES:
        raise ProofError(f"{alg!r} is not an accepted algorithm ({', '.join(ALGORITHMS)}).",
                         code="jws_algorithm_unsupported")
    try:
        key = jwt.PyJWK(jwk, algorithm=alg).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, KeyError, TypeError, ValueError):
        raise ProofError(f"The key (kty {jwk.get('kty')!r}) is malformed or does not fit the algorithm {alg}.",
                         code="key_format") from None
    if not isinstance(key, _KEY_TYPES[alg]) or (alg == "ES256" and jwk.get("crv") != "P-256"):
        raise ProofError(f"The key (kty {jwk.get('kty')!r}) does not fit the algorithm {alg}.", code="key_format")
    return key


def spki(key: PublicKey) -> bytes:
    """The key as DER SubjectPublicKeyInfo: one form to compare keys from different sources."""
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def verify_jws(token: str, key: PublicKey, alg: str) -> None:
    """RFC 7515 §5.2 with `key` and only `alg`; raises ProofError with a stable code."""
    if alg not in ALGORITHMS:
        raise ProofError(f"The JWT is signed with {alg!r}; accepted: {', '.join(ALGORITHMS)}.",
                         code="jws_algorithm_unsupported")
    try:
        _JWS.decode_complete(token.strip(), key=key, algorithms=[alg])
    except jwt.InvalidSignatureError:
        raise ProofError("The signature does not match the JWT: it was changed after signing, or signed with "
                         "another key.", code="signature_mismatch") from None
    except jwt.InvalidKeyError as exc:
        raise ProofError(f"The key cannot verify this JWT: {exc}", code="key_format") from None
    except jwt.InvalidAlgorithmError:
        raise ProofError(f"The JWT's algorithm is not {alg}.", code="jws_algorithm_unsupported") from None
    except jwt.InvalidTokenError as exc:
        raise ProofError(f"The JWT cannot be verified: {exc}.", code="jws_malformed") from None
