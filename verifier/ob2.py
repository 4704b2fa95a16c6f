"""Open Badges 2.0 assertions, hosted or signed, mapped onto the same checks as OB 3.0.

Hosted (verification.type "hosted" / "HostedBadge"): the copy at the assertion's id URL is the
authority; its URL must be allowed by the issuer's verification policy (allowedOrigins /
startsWith; by default the issuer id's host). Signed ("signed" / "SignedBadge"): a compact JWS,
RS256, whose key (verification.creator, else the issuer's publicKey) is a CryptographicKey owned
by the issuer. Both: the BadgeClass and issuer Profile are fetched, the `revoked` flag and the
issuer's revocationList are honoured, and `recipient` {type, hashed, salt, identity} is matched.
No JSON-LD processing: the context must simply be the OB 2.0 one (never fetched).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from . import vc_jwt
from .errors import ProofError, VerifierError
from .fetch import Fetcher
from .report import Check, Problem, Status, VerificationReport
from .timeutil import parse_lenient_datetime

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
HOSTED, SIGNED = ("hosted", "HostedBadge"), ("signed", "SignedBadge")
Outcome = tuple[Check, list[Problem]]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def is_ob2(item: Any) -> bool:
    """An OB 2.0 assertion (by its context, or its type when the context is wrong or missing)."""
    if not isinstance(item, dict):
        return False
    return OB2_CONTEXT in _list(item.get("@context")) or "Assertion" in _list(item.get("type"))


def is_ob2_jws(token: str) -> bool:
    try:
        return is_ob2(vc_jwt.decode_unverified(token)[1])
    except VerifierError:
        return False


def _fail(check_id: str, message: str, code: str, title: str) -> Outcome:
    return Check(check_id, Status.FAILED, message), [Problem(code, title, message)]


class _Related:
    """The BadgeClass and issuer Profile of an assertion, fetched (or embedded), with what went wrong."""

    def __init__(self, assertion: dict[str, Any], fetcher: Fetcher | None) -> None:
        self.fetcher = fetcher
        self.error: str | None = None
        self.badge = self.node(assertion.get("badge"), "badge class")
        self.issuer = self.node(self.badge.get("issuer"), "issuer profile") if self.badge else {}

    def node(self, value: Any, what: str) -> dict[str, Any]:
        if isinstance(value, dict):
            return value
        if not isinstance(value, str):
            self.error = self.error or f"The {what} is missing."
            return {}
        if self.fetcher is None:
            self.error = self.error or f"The {what} at {value} could not be checked offline."
            return {}
        try:
            fetched = self.fetcher.get_json(value)
        except VerifierError as exc:
            self.error = self.error or f"The {what} could not be fetched: {exc.message}"
            return {}
        if not isinstance(fetched, dict):
            self.error = self.error or f"The {what} at {value} is not a JSON object."
            return {}
        return fetched


def verify_hosted(assertion: dict[str, Any], *, origin: str | None = None, now: datetime | None = None,
                  fetcher: Fetcher | None = None, recipient: str | None = None) -> VerificationReport:
    """Verify a hosted OB 2.0 assertion (the copy at its id URL is the one that counts)."""
    kind = _list((assertion.get("verification") or assertion.get("verify") or {}).get("type"))
    if kind and set(map(str, kind)) & set(SIGNED):
        return _report(assertion, "signed", now, recipient, fetcher,
                       _fail("proof", "This assertion says it is signed, but no signature (JWS) was given.",
                             "proof_missing", "No signature"))
    hosted_copy, proof = _hosted_proof(assertion, origin, fetcher)
    return _report(hosted_copy or assertion, "hosted", now, recipient, fetcher, proof,
                   url_to_allow=assertion.get("id"))


def verify_signed(token: str, *, now: datetime | None = None, fetcher: Fetcher | None = None,
                  recipient: str | None = None) -> VerificationReport:
    """Verify a signed OB 2.0 assertion given as a compact JWS."""
    header, assertion = vc_jwt.decode_unverified(token)
    related = _Related(assertion, fetcher)
    return _report(assertion, "signed", now, recipient, fetcher, _signed_proof(token, header, assertion, related),
                   related=related)


def _hosted_proof(assertion: dict[str, Any], origin: str | None,
                  fetcher: Fetcher | None) -> tuple[dict[str, Any] | None, Outcome]:
    url = assertion.get("id")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return None, _fail("proof", "A hosted assertion must have its https URL as id; this one has none.",
                           "hosted_id_invalid", "No hosted URL")
    if fetcher is None:
        return None, _fail("proof", f"The hosted assertion at {url} could not be checked offline (no fetching "
                           "was allowed).", "offline", "Not checked offline")
    try:
        hosted = fetcher.get_json(url)
    except VerifierError as exc:
        return None, _fail("proof", f"The issuer's hosted copy at {url} could not be fetched: {exc.message}",
                           getattr(exc, "code", "fetch_failed"), "Hosted copy unavailable")
    if not isinstance(hosted, dict) or hosted.get("id") != url:
        return None, _fail("proof", f"The document at {url} is not this assertion.", "hosted_mismatch",
                           "Hosted copy differs")
    if not set(map(str, _list((hosted.get("verification") or {}).get("type")))) & set(HOSTED):
        return None, _fail("proof", "The issuer's copy is not a hosted assertion.", "hosted_mismatch",
                           "Hosted copy differs")
    note = "" if hosted == assertion else " (the issuer's current copy was used; it differs from the one presented)"
    fetched = f" from {origin}" if origin and origin != url else ""
    return hosted, (Check("proof", Status.PASSED, f"The issuer hosts this assertion at {url}{fetched}{note}."), [])


def _signed_proof(token: str, header: dict[str, Any], assertion: dict[str, Any], related: _Related) -> Outcome:
    if header.get("alg") != "RS256":
        return _fail("proof", f"Open Badges 2.0 signatures use RS256, not {header.get('alg')!r}.",
                     "jws_algorithm_unsupported", "Unsupported signature")
    verification = assertion.get("verification") if isinstance(assertion.get("verification"), dict) else {}
    creators = _list(verification.get("creator")) or _list(related.issuer.get("publicKey"))
    if related.fetcher is None:
        return _fail("proof", "The signing key of this signed badge could not be checked offline (it is "
                     "published on the issuer's site).", "offline", "Not checked offline")
    if not creators:
        return _fail("proof", "The signed assertion names no key (verification.creator) and its issuer publishes "
                     "none.", "key_unresolved", "No key")
    try:
        key_doc = related.node(creators[0], "signing key") if isinstance(creators[0], str) else creators[0]
        if not key_doc:
            raise ProofError(related.error or "The signing key could not be read.", code="key_unresolved")
        issuer_id = related.issuer.get("id")
        if issuer_id and key_doc.get("owner") != issuer_id:
            raise ProofError(f"The key {key_doc.get('id')} belongs to {key_doc.get('owner')!r}, not to the issuer "
                             f"{issuer_id}.", code="issuer_key_mismatch")
        key = load_pem_public_key(str(key_doc.get("publicKeyPem", "")).encode())
        if not isinstance(key, rsa.RSAPublicKey) or key.key_size < vc_jwt.MIN_RSA_BITS:
            raise ProofError("The issuer's key is not an RSA key of at least 2048 bits.", code="key_format")
        vc_jwt._verify_signature(token, "RS256", key)
    except ValueError:
        return _fail("proof", "The issuer's key (publicKeyPem) cannot be read.", "key_format", "Unreadable key")
    except VerifierError as exc:
        return _fail("proof", f"The signature is not valid: {exc.message}", exc.code, exc.title)
    return Check("proof", Status.PASSED, "The signature (RS256) is valid and made with the issuer's key."), []


def _report(assertion: dict[str, Any], mode: str, now: datetime | None, recipient: str | None,
            fetcher: Fetcher | None, proof: Outcome, *, related: _Related | None = None,
            url_to_allow: Any = None) -> VerificationReport:
    now = now or datetime.now(UTC)
    parsed = _check_parse(assertion)
    if parsed[0].status is Status.FAILED:
        return VerificationReport((parsed[0],), tuple(parsed[1]))
    related = related or _Related(assertion, fetcher)
    outcomes = [parsed, _check_context(assertion), _check_schema(assertion), proof,
                _check_issuer(related, assertion, mode, url_to_allow), _check_validity(assertion, now),
                _check_status(assertion, related, fetcher), _check_recipient(assertion, recipient)]
    expanded = dict(assertion)
    if related.badge:
        expanded["badge"] = {**related.badge, "issuer": related.issuer or related.badge.get("issuer")}
    return VerificationReport(tuple(c for c, _ in outcomes), tuple(p for _, ps in outcomes for p in ps),
                              version=f"Open Badges 2.0 ({mode})", credential=expanded)


def _check_parse(assertion: Any) -> Outcome:
    if not isinstance(assertion, dict) or "Assertion" not in _list(assertion.get("type")):
        return _fail("parse", "This is not an Open Badges 2.0 assertion (its type is not Assertion).",
                     "not_an_assertion", "Not an assertion")
    return Check("parse", Status.PASSED, "The file is a well-formed Open Badges 2.0 assertion."), []


def _check_context(assertion: dict[str, Any]) -> Outcome:
    if OB2_CONTEXT not in _list(assertion.get("@context")):
        return _fail("context", f"The assertion does not use the Open Badges 2.0 context ({OB2_CONTEXT}).",
                     "context_invalid", "Wrong context")
    return Check("context", Status.PASSED, "Uses the standard Open Badges 2.0 vocabulary."), []


def _check_schema(assertion: dict[str, Any]) -> Outcome:
    """Required OB 2.0 Assertion fields (§Assertion): id, recipient, badge, verification, issuedOn."""
    missing = [name for name in ("id", "recipient", "badge", "verification", "issuedOn") if not assertion.get(name)]
    recipient = assertion.get("recipient")
    if isinstance(recipient, dict):
        missing += [f"recipient.{n}" for n in ("type", "identity") if not recipient.get(n)]
    if assertion.get("issuedOn") and parse_lenient_datetime(assertion["issuedOn"]) is None:
        missing.append("issuedOn (not a date)")
    if missing:
        return Check("schema", Status.FAILED, f"The assertion lacks required fields: {', '.join(missing)}."), [
            Problem("ob2_field_missing", "Required field missing", f"Missing or invalid: {name}.", f"/{name}")
            for name in missing]
    return Check("schema", Status.PASSED, "Has every field an Open Badges 2.0 assertion requires."), []


def _check_issuer(related: _Related, assertion: dict[str, Any], mode: str, url: Any) -> Outcome:
    if related.error:
        return Check("issuer", Status.WARNING, f"Issuer not confirmed: {related.error}"), []
    issuer = related.issuer
    if not ({"Issuer", "Profile"} & set(map(str, _list(issuer.get("type"))))):
        return _fail("issuer", "The badge's issuer is not an Issuer profile.", "issuer_invalid", "Invalid issuer")
    name = issuer.get("name") or issuer.get("id")
    if mode == "hosted" and isinstance(url, str) and not _origin_allowed(url, issuer):
        return _fail("issuer", f"The assertion is hosted at {url}, which {name} does not allow for its badges.",
                     "hosted_origin_not_allowed", "Hosted on a site the issuer does not allow")
    return Check("issuer", Status.PASSED, f"Issued by {name} ({issuer.get('id')})."), []


def _origin_allowed(url: str, issuer: dict[str, Any]) -> bool:
    """OB 2.0 VerificationObject: startsWith prefixes, allowedOrigins hosts, else the issuer id's host."""
    policy = issuer.get("verification") if isinstance(issuer.get("verification"), dict) else {}
    starts = [s for s in _list(policy.get("startsWith")) if isinstance(s, str)]
    if starts and not any(url.startswith(s) for s in starts):
        return False
    host = (urlsplit(url).hostname or "").lower()
    origins = [o.lower() for o in _list(policy.get("allowedOrigins")) if isinstance(o, str)]
    if origins:
        return host in origins
    return bool(starts) or host == (urlsplit(str(issuer.get("id", ""))).hostname or "").lower()


def _check_validity(assertion: dict[str, Any], now: datetime) -> Outcome:
    issued, expires = parse_lenient_datetime(assertion.get("issuedOn")), parse_lenient_datetime(assertion.get("expires"))
    if assertion.get("expires") is not None and expires is None:
        return _fail("validity", f"The expiry date {assertion.get('expires')!r} is not a date.", "date_invalid",
                     "Invalid date")
    if issued and issued > now:
        return _fail("validity", f"The badge is dated in the future ({assertion.get('issuedOn')}).",
                     "not_yet_valid", "Not yet valid")
    if issued and expires and expires < issued:
        return _fail("validity", "The badge expires before it was issued.", "date_invalid", "Invalid dates")
    if expires and expires <= now:
        return _fail("validity", f"The badge expired on {assertion.get('expires')}.", "expired", "Expired")
    until = f" until {assertion.get('expires')}" if expires else ""
    return Check("validity", Status.PASSED, f"Issued on {assertion.get('issuedOn')}, valid{until or ' with no expiry'}."), []


def _check_status(assertion: dict[str, Any], related: _Related, fetcher: Fetcher | None) -> Outcome:
    if assertion.get("revoked") is True:
        reason = assertion.get("revocationReason")
        return _fail("status", "Revoked by the issuer" + (f": {reason}." if reason else "."), "status_revoked",
                     "Revoked")
    url = related.issuer.get("revocationList")
    if not url:
        if related.error:
            return Check("status", Status.WARNING, "Status unknown: the issuer could not be consulted."), []
        return Check("status", Status.PASSED, "Not revoked (the issuer publishes no revocation list)."), []
    if fetcher is None:
        return Check("status", Status.WARNING, "Status unknown: the issuer's revocation list could not be checked "
                     "offline."), []
    try:
        listed = fetcher.get_json(url)
    except VerifierError as exc:
        return Check("status", Status.WARNING, f"Status unknown: the revocation list could not be fetched "
                     f"({exc.message})."), []
    if not isinstance(listed, dict) or "RevocationList" not in _list(listed.get("type")):
        return Check("status", Status.WARNING, f"Status unknown: {url} is not a revocation list."), []
    wanted = {assertion.get("id"), assertion.get("uid")} - {None}
    for entry in _list(listed.get("revokedAssertions")):
        entry_id = entry.get("id") or entry.get("uid") if isinstance(entry, dict) else entry
        if entry_id in wanted:
            reason = entry.get("revocationReason") if isinstance(entry, dict) else None
            return _fail("status", "Revoked by the issuer" + (f": {reason}." if reason else "."), "status_revoked",
                         "Revoked")
    return Check("status", Status.PASSED, "Not revoked (checked against the issuer's revocation list)."), []


def _check_recipient(assertion: dict[str, Any], recipient: str | None) -> Outcome:
    if recipient is None:
        return Check("recipient", Status.SKIPPED, "No recipient was given to compare with."), []
    if recipient_matches(assertion.get("recipient"), recipient):
        return Check("recipient", Status.PASSED, "The badge belongs to the given recipient."), []
    return _fail("recipient", "The badge does not belong to the given recipient.", "recipient_mismatch",
                 "Different recipient")


def recipient_matches(identity: Any, recipient: str) -> bool:
    """OB 2.0 IdentityObject: plain identity, or 'sha256$' / 'md5$' hex of identity + salt."""
    if not isinstance(identity, dict) or not isinstance(identity.get("identity"), str):
        return False
    value, salt = identity["identity"], str(identity.get("salt") or "")
    email = identity.get("type") == "email"
    candidates = {recipient, recipient.strip().lower()} if email else {recipient.strip()}
    if not identity.get("hashed"):
        return (value.strip().lower() if email else value) in candidates
    algorithm, _, digest = value.partition("$")
    if algorithm not in ("sha256", "md5"):
        return False
    return any(hashlib.new(algorithm, (c + salt).encode()).hexdigest() == digest.lower() for c in candidates)
