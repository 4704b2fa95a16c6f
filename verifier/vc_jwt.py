"""Open Badges 3.0 as a VC-JWT: a compact JWS (RFC 7515, verified by PyJWT) whose payload is the credential.

Two forms: the OB 3.0 §8.2 / VC-JWT 1.1 form, where the credential is the `vc` claim and the
registered claims stand for its properties (iss = issuer id, sub = credentialSubject.id,
jti = id, nbf = issuanceDate, exp = expirationDate; a claim present on both sides must agree);
and W3C VC-JOSE-COSE (VC 2.0), where the payload is the credential itself (typ "vc+jwt").
The key comes from `kid` (did:key, did:jwk, or a did:web / https key in its controller's
document), else from the header's `jwk`, else from the issuer's own identifier or document; when
`kid` and `jwk` both appear they must name the same key. Whichever it is, issuer_binding then
decides whether it is the issuer's: a did:key / did:jwk issuer's own key, or one its document lists.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from .document_loader import VC_V1
from .errors import ProofError, VerifierError
from .issuer_binding import issuer_id
from .jose import ALGORITHMS, JwsError, PublicKey, decode_unverified, public_key_from_jwk, spki, verify_jws
from .key_resolution import (
    DocumentSource,
    ResolvedKey,
    assertion_methods,
    did_jwk_key,
    pinned_documents,
    remembered,
    resolve_verification_method,
)
from .multikey import decode_public_key
from .report import Check, Problem, Status, VerificationReport
from .timeutil import format_datetime, parse_datetime
from .verify import KnownIssuers, StatusChecker, verify_decoded

__all__ = ["ALGORITHMS", "JwsError", "decode_unverified", "public_key_from_jwk", "verify_vc_jwt"]
JOSE_TYPES = ("vc+jwt", "vc-ld+jwt", "application/vc+jwt", "application/vc-ld+jwt")
HEADER_JWK = "jwk"  # the verification method label of a key carried in the JWT header


def verify_vc_jwt(
    token: str,
    *,
    now: datetime | None = None,
    documents: DocumentSource | None = None,
    status_checker: StatusChecker | None = None,
    recipient: str | None = None,
    known_issuers: KnownIssuers | None = None,
) -> VerificationReport:
    """Verify a VC-JWT: the JWS signature, its claims against the credential, then every check."""
    now = now or datetime.now(UTC)
    source = remembered(pinned_documents(known_issuers, documents))
    try:
        header, payload = decode_unverified(token)
    except JwsError as exc:
        problem = Problem(exc.code, exc.title, exc.message)
        return VerificationReport((Check("parse", Status.FAILED, exc.message),), (problem,))
    credential, claim_problems = _credential(payload)

    def proof_step(_document: dict[str, Any]) -> tuple[Check, list[Problem], list[ResolvedKey]]:
        return _proof(token, header, credential, source, claim_problems)

    return verify_decoded(credential, proof_step=proof_step, documents=source, now=now,
                          status_checker=status_checker, recipient=recipient, securing="VC-JWT")


def _mismatch(claim: str, value: Any, prop: str, current: Any) -> Problem:
    return Problem("jwt_claim_mismatch", "The JWT and its credential disagree",
                   f"The JWT's {claim} claim ({value!r}) differs from the credential's {prop} ({current!r}).",
                   f"/{claim}")


def _credential(payload: dict[str, Any]) -> tuple[Any, list[Problem]]:
    """The credential the JWT carries, and any disagreement between its claims and the credential."""
    if "vc" not in payload:  # VC-JOSE: the payload is the credential; an `iss` claim must still agree
        iss, current = payload.get("iss"), issuer_id(payload)
        return payload, [_mismatch("iss", iss, "issuer", current)] if iss is not None and iss != current else []
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
            problems.append(_mismatch(claim, value, prop, current))

    agree("iss", "issuer", issuer_id(credential), lambda v: credential.__setitem__("issuer", v))
    agree("jti", "id", credential.get("id"), lambda v: credential.__setitem__("id", v))
    subject = credential.get("credentialSubject")
    if isinstance(subject, dict):
        subject = credential["credentialSubject"] = dict(subject)
        agree("sub", "credentialSubject.id", subject.get("id"), lambda v: subject.__setitem__("id", v))
    problems += _dates(payload, credential)
    return credential, problems


def _dates(payload: dict[str, Any], credential: dict[str, Any]) -> list[Problem]:
    """nbf / exp stand for the start and end dates (filled in when the credential omits them)."""
    contexts = credential.get("@context")
    vc11 = (contexts[:1] if isinstance(contexts, list) else [contexts]) == [VC_V1]
    start, end = ("issuanceDate", "expirationDate") if vc11 else ("validFrom", "validUntil")
    problems = []
    for claim, prop in (("nbf", start), ("exp", end)):
        value = payload.get(claim)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        try:
            moment = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            problems.append(Problem("jwt_claim_mismatch", "The JWT and its credential disagree",
                                    f"The JWT's {claim} claim ({value!r}) is not a time.", f"/{claim}"))
            continue
        stated = credential.get(prop)
        if stated is None:
            credential[prop] = format_datetime(moment)
        elif claim == "exp" and (parsed := parse_datetime(stated)) and abs((parsed - moment).total_seconds()) >= 1:
            problems.append(Problem("jwt_claim_mismatch", "The JWT and its credential disagree",
                                    f"The JWT expires ({format_datetime(moment)}) at another time than the "
                                    f"credential's {prop} ({stated}).", "/exp"))
    return problems


def _proof(token: str, header: dict[str, Any], credential: Any, documents: DocumentSource | None,
           claim_problems: list[Problem]) -> tuple[Check, list[Problem], list[ResolvedKey]]:
    alg = header.get("alg")
    try:
        if alg not in ALGORITHMS:
            raise ProofError(f"The JWT is signed with {alg!r}; accepted: {', '.join(ALGORITHMS)}.",
                             code="jws_algorithm_unsupported")
        if "crit" in header:
            raise ProofError("The JWT has critical header parameters this verifier does not understand.",
                             code="jws_crit_unsupported")
        typ = header.get("typ")
        if isinstance(typ, str) and typ not in ("JWT", *JOSE_TYPES):
            raise ProofError(f"The JWT's type {typ!r} is not a credential type.", code="jws_type_invalid")
        key, resolved = signing_key(header, credential, documents, alg)
        verify_jws(token, key, alg)
    except VerifierError as exc:
        check = Check("proof", Status.FAILED, f"The JWT signature is not valid: {exc.message}")
        return check, [Problem(exc.code, exc.title, exc.message), *claim_problems], []
    if claim_problems:
        return (Check("proof", Status.FAILED, f"The JWT signature is valid, but {claim_problems[0].detail}"),
                claim_problems, [])
    return (Check("proof", Status.PASSED, f"The JWT signature ({alg}) is valid: the credential has not been "
                  "changed since it was signed."), [], [resolved])


def signing_key(header: dict[str, Any], credential: Any, documents: DocumentSource | None,
                alg: str) -> tuple[PublicKey, ResolvedKey]:
    """The key the header names (kid, jwk, or else the issuer's own); raises ProofError."""
    issuer = issuer_id(credential) if isinstance(credential, dict) else None
    kid, jwk = header.get("kid"), header.get("jwk")
    if isinstance(kid, str) and kid:
        key, resolved = _key_by_id(issuer + kid if kid.startswith("#") and issuer else kid, documents, alg)
        if jwk is not None and spki(public_key_from_jwk(jwk, alg)) != resolved.spki:
            raise ProofError(f"The JWT's jwk header and its kid ({kid}) name different keys.", code="jws_key_conflict")
        return key, resolved
    if jwk is not None:
        key = public_key_from_jwk(jwk, alg)
        return key, ResolvedKey(HEADER_JWK, "", b"", confirmed=False, spki=spki(key))
    if issuer and issuer.startswith(("did:", "https://")):
        return _key_by_id(issuer, documents, alg)
    raise ProofError("The JWT names no key (no kid or jwk header) and the issuer has none to look up.",
                     code="key_unresolved")


def _key_by_id(kid: str, documents: DocumentSource | None, alg: str) -> tuple[PublicKey, ResolvedKey]:
    controller, _, fragment = kid.partition("#")
    if controller.startswith("did:key:"):
        if alg != "EdDSA":
            raise ProofError(f"A did:key is an Ed25519 key; the JWT says {alg}.", code="key_format")
        try:
            resolved = resolve_verification_method(kid, documents)
        except VerifierError as exc:
            raise ProofError(exc.message, code=exc.code) from None
        return ed25519.Ed25519PublicKey.from_public_bytes(resolved.public_key), resolved
    if controller.startswith("did:jwk:"):
        if fragment not in ("", "0"):
            raise ProofError(f"A did:jwk has one verification method, #0, not {kid!r}.", code="key_unresolved")
        try:
            key = public_key_from_jwk(did_jwk_key(controller), alg)
        except VerifierError as exc:
            raise ProofError(exc.message, code="key_unresolved") from None
        return key, ResolvedKey(f"{controller}#0", controller, b"", confirmed=True, spki=spki(key))
    if not controller.startswith(("did:web:", "https://", "http://")):
        raise ProofError(f"The key {kid!r} uses a method this verifier cannot resolve (supported: did:key, "
                         "did:jwk, did:web, https).", code="key_unresolved")
    method = _method(_controller_document(kid, controller, documents), controller, kid if fragment else None)
    if "publicKeyJwk" in method:
        key = public_key_from_jwk(method["publicKeyJwk"], alg)
    else:
        try:
            key = ed25519.Ed25519PublicKey.from_public_bytes(decode_public_key(method.get("publicKeyMultibase", "")))
        except VerifierError as exc:
            raise ProofError(f"The key {kid!r} is in no supported format: {exc.message}", code="key_format") from None
    return key, ResolvedKey(method["id"], controller, b"", confirmed=True, spki=spki(key))


def _controller_document(kid: str, controller: str, documents: DocumentSource | None) -> dict[str, Any]:
    try:
        document = documents(controller) if documents else None
    except VerifierError as exc:
        raise ProofError(f"The key {kid!r} could not be checked: the issuer's key document could not be fetched "
                         f"({exc.message}).", code=exc.code) from None
    if document is None:
        raise ProofError(f"The key {kid!r} could not be checked offline: the issuer's key document is not "
                         "available.", code="key_unresolved")
    return document


def _method(document: dict[str, Any], controller: str, kid: str | None) -> dict[str, Any]:
    """The verification method `kid` (or the only assertion key) listed for issuing in the document."""
    listed = [(i, m) for i, m in assertion_methods(document, controller) if m is not None]
    wanted = kid or (listed[0][0] if len(listed) == 1 else None)
    for method_id, method in listed:
        if method_id == wanted:
            if method.get("controller", controller) != controller:
                raise ProofError(f"The key {wanted!r} is controlled by someone other than {controller!r}.",
                                 code="key_unresolved")
            return {**method, "id": method_id}
    raise ProofError(f"The issuer's document for {controller!r} does not list {kid or 'a single key'} as a key "
                     "for issuing credentials (the key is unknown, or was revoked).", code="key_not_in_document")
