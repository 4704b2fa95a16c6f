"""The `jwt` key proof of OID4VCI 1.0 (§F.1, checks of §F.4), checked.

Typed, signed by the key its header names (a did:key in `kid`, or a public `jwk`), for this issuer
(`aud`), recent (`iat`), with a nonce.

Keys: Ed25519 (alg EdDSA) and P-256 (alg ES256). `x5c` and `trust_chain` are not supported.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from verifier.errors import KeyFormatError
from verifier.multikey import ED25519_PUB_PREFIX, multibase_decode

from .errors import InvalidProof

PROOF_TYPE = "openid4vci-proof+jwt"
ALGORITHMS = ("EdDSA", "ES256")
MAX_AGE = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=60)
MAX_LENGTH = 8192
P256_PUB_PREFIX = b"\x80\x24"  # multicodec p256-pub (0x1200) as a varint; the point is compressed (33 bytes)
PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey
# RFC 7638 §3.2: the members of a public JWK that its thumbprint covers, by (kty, crv).
_JWK_MEMBERS: dict[tuple[Any, Any], tuple[str, ...]] = {("OKP", "Ed25519"): ("crv", "kty", "x"),
                                                       ("EC", "P-256"): ("crv", "kty", "x", "y")}


@dataclass(frozen=True)
class KeyProof:
    """A verified key proof: the wallet's key (a did:key, or a JWK thumbprint URI) and the nonce it signed."""

    holder: str
    nonce: str
    algorithm: str


def verify_key_proof(token: Any, *, audience: str, now: datetime | None = None) -> KeyProof:
    """Verify one proof JWT; raises InvalidProof saying what is wrong."""
    now = now or datetime.now(UTC)
    if not isinstance(token, str) or not token or len(token) > MAX_LENGTH:
        raise InvalidProof("The key proof must be a JWT (a string of at most 8 KB).")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidProof("The key proof is not a well-formed JWT.") from None
    if header.get("typ") != PROOF_TYPE:
        raise InvalidProof(f"The key proof's typ header must be {PROOF_TYPE}.")
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise InvalidProof("The key proof must be signed with EdDSA (Ed25519) or ES256 (P-256).")
    key, holder = _header_key(header)
    if isinstance(key, Ed25519PublicKey) != (algorithm == "EdDSA"):
        raise InvalidProof(f"The key in the header cannot make {algorithm} signatures.")
    claims = _decode(token, key, algorithm, audience)
    _check_times(claims, now)
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise InvalidProof("The key proof has no nonce claim: get a c_nonce from the nonce endpoint and sign it.")
    return KeyProof(holder=holder, nonce=nonce, algorithm=algorithm)


def _header_key(header: dict[str, Any]) -> tuple[PublicKey, str]:
    """The public key named by exactly one of `kid` (did:key) or `jwk` (§F.1), and how to record it."""
    if "x5c" in header or "trust_chain" in header:
        raise InvalidProof("Key proofs with x5c or trust_chain are not supported: name the key with kid or jwk.")
    if ("kid" in header) == ("jwk" in header):
        raise InvalidProof("The key proof's header must name its key with exactly one of kid (a did:key) or jwk.")
    if "kid" in header:
        return did_key_public_key(header["kid"])
    return jwk_public_key(header["jwk"])


def did_key_public_key(kid: Any) -> tuple[PublicKey, str]:
    """The key of a did:key (or did:key DID URL whose fragment is the same key): Ed25519 or P-256."""
    if not isinstance(kid, str) or not kid.startswith("did:key:"):
        raise InvalidProof("The kid must be a did:key (other DID methods are not resolved here).")
    did, _, fragment = kid.partition("#")
    multibase = did[len("did:key:"):]
    if fragment and fragment != multibase:
        raise InvalidProof("The kid's fragment does not name the did:key's own key.")
    try:
        data = multibase_decode(multibase)
    except KeyFormatError:
        raise InvalidProof("The did:key in kid is not a valid multibase key.") from None
    try:
        if data.startswith(ED25519_PUB_PREFIX) and len(data) == 34:
            return Ed25519PublicKey.from_public_bytes(data[2:]), did
        if data.startswith(P256_PUB_PREFIX) and len(data) == 35:
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data[2:]), did
    except ValueError:
        raise InvalidProof("The did:key in kid is not a valid public key.") from None
    raise InvalidProof("The did:key in kid must be an Ed25519 or P-256 key.")


def jwk_public_key(jwk_value: Any) -> tuple[PublicKey, str]:
    """A public JWK (OKP Ed25519 or EC P-256) and its RFC 9278 thumbprint URI; a private key is refused."""
    if not isinstance(jwk_value, dict):
        raise InvalidProof("The jwk header must be a JSON object.")
    if "d" in jwk_value:
        raise InvalidProof("The jwk header contains a private key: send only the public key.")
    members = _JWK_MEMBERS.get((jwk_value.get("kty"), jwk_value.get("crv")))
    if members is None or not all(isinstance(jwk_value.get(m), str) for m in members):
        raise InvalidProof("The jwk must be an Ed25519 (OKP) or P-256 (EC) public key.")
    try:
        key = jwt.PyJWK({m: jwk_value[m] for m in members}).key
    except (jwt.PyJWTError, ValueError):
        raise InvalidProof("The jwk is not a valid public key.") from None
    # RFC 7638: SHA-256 of the required members, sorted, without whitespace.
    canonical = json.dumps({m: jwk_value[m] for m in members}, sort_keys=True, separators=(",", ":"))
    digest = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode("utf-8")).digest()).rstrip(b"=").decode()
    return key, f"urn:ietf:params:oauth:jwk-thumbprint:sha-256:{digest}"


def _decode(token: str, key: PublicKey, algorithm: str, audience: str) -> dict[str, Any]:
    """Signature and audience by PyJWT; times are checked against our own clock (see _check_times)."""
    try:
        return jwt.decode(token, key=key, algorithms=[algorithm], audience=audience, options={
            "verify_exp": False, "verify_nbf": False, "verify_iat": False, "require": ["aud", "iat"]})
    except jwt.InvalidSignatureError:
        raise InvalidProof("The key proof's signature does not verify with the key in its header.") from None
    except jwt.InvalidAudienceError:
        raise InvalidProof(f"The key proof's aud must be this credential issuer: {audience}.") from None
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidProof(f"The key proof has no {exc.claim} claim.") from None
    except jwt.PyJWTError:
        raise InvalidProof("The key proof could not be decoded.") from None


def _check_times(claims: dict[str, Any], now: datetime) -> None:
    """iat within the last five minutes (a minute of clock skew allowed); an exp, if any, not passed."""
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, (int, float)):
        raise InvalidProof("The key proof's iat must be a number (seconds since 1970).")
    stamp = now.timestamp()
    if iat > stamp + CLOCK_SKEW.total_seconds():
        raise InvalidProof("The key proof's iat is in the future.")
    if stamp - iat > MAX_AGE.total_seconds():
        raise InvalidProof("The key proof is too old (iat more than five minutes ago): make a new one.")
    exp = claims.get("exp")
    if exp is not None and (isinstance(exp, bool) or not isinstance(exp, (int, float)) or exp <= stamp):
        raise InvalidProof("The key proof has expired.")
