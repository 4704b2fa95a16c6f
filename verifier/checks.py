"""The individual checks of a credential, one function per check id (see report.CHECK_IDS); the
issuer check lives in issuer_binding."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from .data_integrity import ProofResult, proofs_of, verify_proofs
from .document_loader import VC_V1, VC_V2, pinned_urls
from .issuer_binding import check_issuer, issuer_id  # noqa: F401  (callers know them from here)
from .key_resolution import DocumentSource, ResolvedKey
from .report import Check, Problem, Status
from .schema import schema_problems
from .timeutil import parse_datetime

Outcome = tuple[Check, list[Problem]]
OB_CONTEXT_PREFIX = "https://purl.imsglobal.org/spec/ob/v3p0/context"
CREDENTIAL_TYPES = {"OpenBadgeCredential", "AchievementCredential", "EndorsementCredential"}
MAX_DEPTH = 64


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _fail(check_id: str, message: str, code: str, title: str, detail: str | None = None) -> Outcome:
    return Check(check_id, Status.FAILED, message), [Problem(code, title, detail or message)]


def _depth(node: Any, limit: int) -> int:
    """Nesting depth, stopping early past the limit (iterative: no recursion on hostile input)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return deepest


def describe_version(document: dict[str, Any], securing: str = "Data Integrity") -> str:
    """Which standard the credential follows and how it is secured, in words."""
    contexts = _types(document.get("@context"))
    vc = "VC 2.0" if contexts and contexts[0] == VC_V2 else "VC 1.1" if contexts and contexts[0] == VC_V1 else "unknown VC version"
    ob = next((c for c in contexts if isinstance(c, str) and c.startswith(OB_CONTEXT_PREFIX)), None)
    if ob is None:
        return f"Verifiable Credential ({vc}, {securing}), not an Open Badge"
    return f"Open Badges 3.0 ({vc}, {securing})"


def check_parse(document: Any) -> Outcome:
    """parse: a JSON object shaped like a Verifiable Credential."""
    if not isinstance(document, dict):
        return _fail("parse", "This is not a credential: expected a JSON object.", "not_an_object", "Not a JSON object")
    if _depth(document, MAX_DEPTH) > MAX_DEPTH:
        return _fail("parse", f"The document is nested more than {MAX_DEPTH} levels deep.", "too_deep", "Nested too deeply")
    if "@context" not in document or "type" not in document:
        return _fail("parse", "This is not a Verifiable Credential: it has no @context or type.",
                     "not_a_credential", "Not a Verifiable Credential")
    if "VerifiableCredential" not in _types(document.get("type")):
        return _fail("parse", "The type does not include VerifiableCredential.", "not_a_credential",
                     "Not a Verifiable Credential")
    return Check("parse", Status.PASSED, "The file is a well-formed Verifiable Credential."), []


def check_context(document: dict[str, Any]) -> Outcome:
    """context: a known VC context first, an OB 3.0 context, and only pinned context URLs."""
    contexts = _types(document["@context"])
    if not contexts or contexts[0] not in (VC_V1, VC_V2):
        return _fail("context", "The first @context is not the W3C Verifiable Credentials context.",
                     "context_invalid", "Wrong first context")
    unknown = [c for c in contexts if isinstance(c, str) and c not in pinned_urls()]
    if unknown:
        return _fail("context", f"The credential uses a context this verifier does not know: {unknown[0]}.",
                     "context_not_allowed", "Unknown JSON-LD context",
                     f"Unknown context URL(s): {', '.join(unknown)}. Contexts are never fetched from the network.")
    if not any(isinstance(c, str) and c.startswith(OB_CONTEXT_PREFIX) for c in contexts):
        return Check("context", Status.WARNING, "This is a Verifiable Credential but not an Open Badge."), []
    if not CREDENTIAL_TYPES & {t for t in _types(document.get("type")) if isinstance(t, str)}:
        return Check("context", Status.WARNING, "The credential is not typed as an OpenBadgeCredential."), []
    return Check("context", Status.PASSED, "Uses the standard Open Badges 3.0 vocabulary."), []


def check_schema(document: dict[str, Any]) -> Outcome:
    """schema: the official OB 3.0 JSON Schema (VC 2.0 form); VC 1.1-era files predate it."""
    if "Open Badges 3.0" not in describe_version(document):
        return Check("schema", Status.SKIPPED, "Not an Open Badge: the Open Badges schema does not apply."), []
    if _types(document["@context"])[0] == VC_V1:
        return Check("schema", Status.SKIPPED,
                     "Older (VC 1.1) form: the Open Badges 3.0 schema covers the VC 2.0 form only."), []
    problems = schema_problems(document)
    if problems:
        return Check("schema", Status.FAILED,
                     f"The credential does not follow the Open Badges 3.0 format ({len(problems)} problem(s)); "
                     f"first: {problems[0].detail}"), problems
    return Check("schema", Status.PASSED, "Follows the Open Badges 3.0 format."), []


def check_proof(document: dict[str, Any], documents: DocumentSource | None) -> tuple[Check, list[Problem], list[ResolvedKey]]:
    """proof: every supported proof verifies, and at least one does."""
    if not proofs_of(document):
        check, problems = _fail("proof", "The credential is not signed (it has no proof).", "proof_missing", "No proof")
        return check, problems, []
    results = verify_proofs(document, documents=documents)
    supported = [r for r in results if r.supported]
    failed = [r for r in supported if not r.verified]
    if not supported:
        kinds = ", ".join(sorted({str(r.proof.get("cryptosuite") or r.proof.get("type")) for r in results}))
        check, problems = _fail("proof", f"The signature type is not supported ({kinds}).", "proof_unsupported",
                                "Unsupported proof", "Supported: DataIntegrityProof eddsa-rdfc-2022 (and legacy "
                                "eddsa-2022), Ed25519Signature2020.")
        return check, problems, []
    if failed:
        problems = [_proof_problem(r) for r in failed]
        return Check("proof", Status.FAILED, f"The signature is not valid: {problems[0].detail}"), problems, []
    keys = [r.key for r in supported if r.key is not None]
    skipped = len(results) - len(supported)
    note = f" ({skipped} other proof(s) of an unsupported type were not checked)" if skipped else ""
    status = Status.WARNING if skipped else Status.PASSED
    return Check("proof", status, f"The signature is valid: the credential has not been changed since it was signed{note}."), [], keys


def _proof_problem(result: ProofResult) -> Problem:
    error = result.error
    if error is None:
        return Problem("proof_invalid", "The proof is not valid", "The signature did not verify.")
    return Problem(error.code, error.title, error.message)


def check_validity(document: dict[str, Any], now: datetime) -> Outcome:
    """validity: valid from / until (issuanceDate / expirationDate in VC 1.1 form)."""
    vc11 = _types(document.get("@context"))[:1] == [VC_V1]
    start_key, end_key = ("issuanceDate", "expirationDate") if vc11 else ("validFrom", "validUntil")
    start_raw, end_raw = document.get(start_key), document.get(end_key)
    start, end = parse_datetime(start_raw), parse_datetime(end_raw)
    if start_raw is not None and start is None:
        return _fail("validity", f"The {start_key} date {start_raw!r} is not a valid date.", "date_invalid", "Invalid date")
    if end_raw is not None and end is None:
        return _fail("validity", f"The {end_key} date {end_raw!r} is not a valid date.", "date_invalid", "Invalid date")
    if start_key == "issuanceDate" and start is None:
        return _fail("validity", "The credential has no issuance date.", "date_missing", "No issuance date")
    if start and start > now:
        return _fail("validity", f"The credential is not valid until {start_raw}.", "not_yet_valid", "Not yet valid")
    if end and end <= now:
        return _fail("validity", f"The credential expired on {end_raw}.", "expired", "Expired")
    until = f" until {end_raw}" if end_raw else ""
    since = f"since {start_raw}" if start_raw else "with no start date"
    return Check("validity", Status.PASSED, f"Valid {since}{until}."), []


def check_status(document: dict[str, Any], status_checker: Any) -> Outcome:
    """status: revocation and suspension, through the injected status checker."""
    if not document.get("credentialStatus"):
        return Check("status", Status.PASSED, "The issuer publishes no revocation status for this credential."), []
    if status_checker is None:
        return Check("status", Status.WARNING,
                     "Status unknown: the issuer's status list was not checked, so revocation cannot be ruled out."), []
    check = status_checker(document)
    if check.status is Status.WARNING:
        return check, [Problem("status_unknown", "Status unknown", check.message)]
    problems = [] if check.ok else [Problem("status_" + check.status.value, "Revoked or suspended", check.message)]
    return check, problems


def check_recipient(document: dict[str, Any], recipient: str | None) -> Outcome:
    """recipient: the credential belongs to the given identifier (plain or salted hash)."""
    if recipient is None:
        return Check("recipient", Status.SKIPPED, "No recipient was given to compare with."), []
    subject = document.get("credentialSubject")
    subjects = subject if isinstance(subject, list) else [subject]
    for item in subjects:
        if not isinstance(item, dict):
            continue
        if item.get("id") == recipient:
            return Check("recipient", Status.PASSED, "The credential belongs to the given recipient."), []
        for identity in _types(item.get("identifier") or []):
            if isinstance(identity, dict) and identity_matches(identity, recipient):
                return Check("recipient", Status.PASSED, "The credential belongs to the given recipient."), []
    return _fail("recipient", "The credential does not belong to the given recipient.", "recipient_mismatch",
                 "Different recipient")


def identity_matches(identity: dict[str, Any], recipient: str) -> bool:
    """OB 3.0 IdentityObject: plain value, or 'sha256$' / 'md5$' hex of value + salt."""
    value = identity.get("identityHash")
    if not isinstance(value, str):
        return False
    salt = identity.get("salt") or ""
    candidates = {recipient, recipient.strip().lower()} if "@" in recipient else {recipient}
    if not identity.get("hashed"):
        stored = value.strip().lower() if identity.get("identityType") == "emailAddress" else value
        return stored in candidates
    algorithm, _, digest = value.partition("$")
    if algorithm not in ("sha256", "md5"):
        return False
    return any(hashlib.new(algorithm, (c + salt).encode()).hexdigest() == digest.lower() for c in candidates)
