"""Open Badges 3.0 as a VC-JWT: a compact JWS (RFC 7515) whose payload is the credential.

Two forms: the OB 3.0 §8.2 / VC-JWT 1.1 form, where the credential is the `vc` claim and the
registered claims stand for its properties (iss = issuer id, sub = credentialSubject.id,
jti = id, nbf = issuanceDate, exp = expirationDate; a claim present on both sides must agree);
and W3C VC-JOSE-COSE (VC 2.0), where the payload is the credential itself (typ "vc+jwt").
Algorithms: RS256 (OB 3.0's required one), EdDSA (Ed25519) and ES256; "none" and shared-secret
algorithms are refused. The key comes from the header's `jwk` (allowed by OB 3.0, but nothing
binds it to the issuer) or from `kid`: a did:key, or a did:web / https key in its controller's
document (publicKeyJwk or an Ed25519 publicKeyMultibase).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from . import checks
from .document_loader import VC_V1
from .errors import KeyFormatError, ProofError, VerifierError
from .key_resolution import DocumentSource, ResolvedKey
from .multikey import decode_public_key
from .report import Check, Problem, Status, VerificationReport
from .timeutil import format_datetime, parse_datetime
from .verify import StatusChecker, verify_decoded

ALGORITHMS = ("RS256", "EdDSA", "ES256")
MIN_RSA_BITS = 2048
JOSE_TYPES = ("vc+jwt", "vc-ld+jwt", "application/vc+jwt", "application/vc-ld+jwt")
PublicKey = rsa.RSAPublicKey | ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey


class JwsError(VerifierError):
    code = "jws_malformed"
    title = "Not a readable JWT"


def _b64(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise JwsError("A part of the JWT is not base64url.") from None


def _json_part(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64(part).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise JwsError(f"The JWT's {what} is not JSON.") from None
    if not isinstance(value, dict):
        raise JwsError(f"The JWT's {what} is not a JSON object.")
    return value


def decode_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a compact JWS without checking anything; raises JwsError."""
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise JwsError("A compact JWS has three parts separated by dots.")
    return _json_part(parts[0], "header"), _json_part(parts[1], "payload")


def verify_vc_jwt(
    token: str,
    *,
    now: datetime | None = None,
    documents: DocumentSource | None = None,
    status_checker: StatusChecker | None = None,
    recipient: str | None = None,
) -> VerificationReport:
    """Verify a VC-JWT: the JWS signature, its claims against the credential, then every check."""
    now = now or datetime.now(UTC)
    try:
        header, payload = decode_unverified(token)
    except JwsError as exc:
        problem = Problem(exc.code, exc.title, exc.message)
        return VerificationReport((Check("parse", Status.FAILED, exc.message),), (problem,))
    credential, claim_problems = _credential(header, payload, now)
    state: dict[str, Any] = {}

    def proof_step(_document: dict[str, Any]) -> tuple[Check, list[Problem], list[ResolvedKey]]:
        return _proof(token, header, credential, documents, claim_problems, state)

    def issuer_step(document: dict[str, Any], keys: list[ResolvedKey]) -> tuple[Check, list[Problem]]:
        if keys and state.get("embedded"):
            return Check("issuer", Status.WARNING,
                         "Signed with a key carried inside the JWT itself; nothing shows that key belongs to "
                         f"the issuer ({checks.issuer_id(document)})."), []
        return checks.check_issuer(document, keys)

    return verify_decoded(credential, proof_step=proof_step, issuer_step=issuer_step, now=now,
                          status_checker=status_checker, recipient=recipient, securing="VC-JWT")


def _credential(header: dict[str, Any], payload: dict[str, Any], now: datetime) -> tuple[Any, list[Problem]]:
    """The credential the JWT carries, and any disagreement between its claims and the credential."""
    if "vc" not in payload:  # VC-JOSE: the payload is the credential
        return payload, []
    vc = payload["vc"]
    if not isinstance(vc, dict):
        return vc, []
    credential = dict(vc)
    problems: list[Problem] = []

    def agree(claim: str, prop: str, current: Any, fill: Any) -> None:
        value = payload.get(claim)
        if value is None:
            return
        if current is None:
            fill(value)
        elif current != value:
            problems.append(Problem("jwt_claim_mismatch", "The JWT and its credential disagree",
                                    f"The JWT's {claim} claim ({value!r}) differs from the credential's "
                                    f"{prop} ({current!r}).", f"/{claim}"))

    def set_issuer(value: Any) -> None:
        credential["issuer"] = value

    agree("iss", "issuer", checks.issuer_id(credential), set_issuer)
    agree("jti", "id", credential.get("id"), lambda v: credential.__setitem__("id", v))
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict):
        subject = credential["credentialSubject"] = dict(subject)
        agree("sub", "credentialSubject.id", subject.get("id"), lambda v: subject.__setitem__("id", v))
    contexts = credential.get("@context")
    vc11 = (contexts[:1] if isinstance(contexts, list) else [contexts]) == [VC_V1]
    start, end = ("issuanceDate", "expirationDate") if vc11 else ("validFrom", "validUntil")
    for claim, prop in (("nbf", start), ("exp", end)):
        value = payload.get(claim)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            moment = datetime.fromtimestamp(value, UTC)
            stated = credential.get(prop)
            if stated is None:
                credential[prop] = format_datetime(moment)
            elif claim == "exp" and (parsed := parse_datetime(stated)) and abs((parsed - moment).total_seconds()) >= 1:
                problems.append(Problem("jwt_claim_mismatch", "The JWT and its credential disagree",
                                        f"The JWT expires ({format_datetime(moment)}) at another time than the "
                                        f"credential's {prop} ({stated}).", "/exp"))
    return credential, problems


def _proof(token: str, header: dict[str, Any], credential: Any, documents: DocumentSource | None,
           claim_problems: list[Problem], state: dict[str, Any]) -> tuple[Check, list[Problem], list[ResolvedKey]]:
    alg = header.get("alg")
    try:
        if alg not in ALGORITHMS:
            raise ProofError(f"The JWT is signed with {alg!r}; accepted: {', '.join(ALGORITHMS)}.",
                             code="jws_algorithm_unsupported")
        if header.get("crit"):
            raise ProofError("The JWT has critical header parameters this verifier does not understand.",
                             code="jws_crit_unsupported")
        typ = header.get("typ")
        if isinstance(typ, str) and typ not in ("JWT", *JOSE_TYPES):
            raise ProofError(f"The JWT's type {typ!r} is not a credential type.", code="jws_type_invalid")
        key, resolved = _key(header, credential, documents, alg)
        state["embedded"] = "jwk" in header and "kid" not in header
        _verify_signature(token, alg, key)
    except VerifierError as exc:
        check = Check("proof", Status.FAILED, f"The JWT signature is not valid: {exc.message}")
        return check, [Problem(exc.code, exc.title, exc.message), *claim_problems], []
    if claim_problems:
        return (Check("proof", Status.FAILED, f"The JWT signature is valid, but {claim_problems[0].detail}"),
                claim_problems, [])
    return (Check("proof", Status.PASSED, f"The JWT signature ({alg}) is valid: the credential has not been "
                  "changed since it was signed."), [], [resolved])


def _key(header: dict[str, Any], credential: Any, documents: DocumentSource | None,
         alg: str) -> tuple[PublicKey, ResolvedKey]:
    issuer = checks.issuer_id(credential) if isinstance(credential, dict) else None
    kid = header.get("kid")
    if isinstance(kid, str) and kid:
        if kid.startswith("#") and issuer:
            kid = issuer + kid
        return _key_by_id(kid, documents, alg)
    jwk = header.get("jwk")
    if isinstance(jwk, dict):
        key = public_key_from_jwk(jwk, alg)
        return key, ResolvedKey("jwk", issuer or "jwk", b"", confirmed=False)
    if issuer and (issuer.startswith(("did:", "https://"))):
        return _key_by_id(issuer, documents, alg)
    raise ProofError("The JWT names no key (no kid or jwk header) and the issuer has none to look up.",
                     code="key_unresolved")


def _key_by_id(kid: str, documents: DocumentSource | None, alg: str) -> tuple[PublicKey, ResolvedKey]:
    controller, _, fragment = kid.partition("#")
    if controller.startswith("did:key:"):
        multibase = controller[len("did:key:"):]
        if fragment and fragment != multibase:
            raise ProofError(f"The did:key key id {kid!r} names a different key.", code="key_unresolved")
        try:
            raw = decode_public_key(multibase)
        except KeyFormatError as exc:
            raise ProofError(f"The did:key {controller!r} is not an Ed25519 key: {exc.message}",
                             code="key_unresolved") from None
        return ed25519.Ed25519PublicKey.from_public_bytes(raw), ResolvedKey(kid, controller, raw, confirmed=True)
    if not (controller.startswith(("did:web:", "https://", "http://"))):
        raise ProofError(f"The key {kid!r} uses a method this verifier cannot resolve (supported: did:key, "
                         "did:web, https).", code="key_unresolved")
    document = documents(controller) if documents else None
    if document is None:
        raise ProofError(f"The key {kid!r} could not be checked offline: the issuer's key document is not "
                         "available.", code="key_unresolved")
    method = _method(document, controller, kid if fragment else None)
    if "publicKeyJwk" in method:
        key = public_key_from_jwk(method["publicKeyJwk"], alg)
    else:
        try:
            key = ed25519.Ed25519PublicKey.from_public_bytes(decode_public_key(method.get("publicKeyMultibase", "")))
        except KeyFormatError as exc:
            raise ProofError(f"The key {kid!r} is in no supported format: {exc.message}", code="key_format") from None
    return key, ResolvedKey(kid, controller, b"", confirmed=True)


def _method(document: dict[str, Any], controller: str, kid: str | None) -> dict[str, Any]:
    """The verification method `kid` (or the only assertion key) listed for issuing in the document."""
    def absolute(ref: Any) -> Any:
        return controller + ref if isinstance(ref, str) and ref.startswith("#") else ref

    methods = [m for m in [*(document.get("assertionMethod") or []), *(document.get("verificationMethod") or [])]
               if isinstance(m, dict)]
    listed = {absolute(m if isinstance(m, str) else m.get("id")) for m in document.get("assertionMethod") or []}
    wanted = kid or (next(iter(listed)) if len(listed) == 1 else None)
    for method in methods:
        if absolute(method.get("id")) == wanted and wanted in listed:
            if method.get("controller", controller) != controller:
                raise ProofError(f"The key {wanted!r} is controlled by someone other than {controller!r}.",
                                 code="key_unresolved")
            return method
    raise ProofError(f"The issuer's document for {controller!r} does not list {kid or 'a single key'} as a key "
                     "for issuing credentials (the key is unknown, or was revoked).", code="key_not_in_document")


def public_key_from_jwk(jwk: Any, alg: str) -> PublicKey:
    """A public key from a JWK fit for `alg`; raises ProofError (private keys are refused too)."""
    if not isinstance(jwk, dict):
        raise ProofError("The JWK is not a JSON object.", code="key_format")
    if "d" in jwk:
        raise ProofError("The JWT carries a private key; it is refused.", code="key_format")
    try:
        kty = jwk.get("kty")
        if kty == "RSA" and alg == "RS256":
            n, e = (int.from_bytes(_b64(jwk[p]), "big") for p in ("n", "e"))
            key: PublicKey = rsa.RSAPublicNumbers(e, n).public_key()
            if key.key_size < MIN_RSA_BITS:
                raise ProofError(f"The RSA key has {key.key_size} bits; at least {MIN_RSA_BITS} are required.",
                                 code="key_format")
            return key
        if kty == "OKP" and jwk.get("crv") == "Ed25519" and alg == "EdDSA":
            return ed25519.Ed25519PublicKey.from_public_bytes(_b64(jwk["x"]))
        if kty == "EC" and jwk.get("crv") == "P-256" and alg == "ES256":
            x, y = (int.from_bytes(_b64(jwk[p]), "big") for p in ("x", "y"))
            return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    except (KeyError, TypeError, ValueError, JwsError):
        raise ProofError("The JWK is malformed.", code="key_format") from None
    raise ProofError(f"The key (kty {jwk.get('kty')!r}) does not fit the algorithm {alg}.", code="key_format")


def _verify_signature(token: str, alg: str, key: PublicKey) -> None:
    head, payload, signature_part = token.strip().split(".")
    data, signature = f"{head}.{payload}".encode("ascii"), _b64(signature_part)
    try:
        if alg == "RS256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "EdDSA" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
        elif alg == "ES256" and isinstance(key, ec.EllipticCurvePublicKey) and len(signature) == 64:
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            key.verify(der, data, ec.ECDSA(hashes.SHA256()))
        else:
            raise InvalidSignature
    except InvalidSignature:
        raise ProofError("The signature does not match the JWT: it was changed after signing, or signed with "
                         "another key.", code="signature_mismatch") from None
