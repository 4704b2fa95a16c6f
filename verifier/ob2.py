"""Open Badges 2.0 assertions, hosted or signed, mapped onto the same checks as OB 3.0.

Who the issuer is comes only from documents each at its own id (OB 2.0 §Verification): the
BadgeClass is fetched from its https id (a signed assertion may embed an ephemeral one, which its
signature covers), and the issuer Profile is ALWAYS fetched from the id the BadgeClass names; a
document whose `id` is not the URL it was fetched from is not that document, and an embedded or
differently hosted profile never decides who the issuer is.

Hosted (verification.type "hosted" / "HostedBadge"): the copy at the assertion's id URL is the
authority; its URL must be allowed by the issuer's own verification policy (allowedOrigins /
startsWith; by default the issuer id's host). Signed ("signed" / "SignedBadge"): a compact JWS,
RS256, whose key is one the issuer's own Profile lists in `publicKey` (verification.creator must
be one of them), each key read from its own id and owned by the issuer. Both: the `revoked` flag
and the issuer's revocationList are honoured, and `recipient` {type, hashed, salt, identity} is
matched. No JSON-LD processing: the context must simply be the OB 2.0 one (never fetched).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from .errors import ProofError, VerifierError
from .fetch import Fetcher
from .jose import decode_unverified, verify_jws
from .ob2_checks import (OB2_CONTEXT, Outcome, as_list, check_context, check_parse, check_recipient, check_schema,
                         check_validity, recipient_matches)
from .ob2_checks import fail as _fail
from .report import Check, Status, VerificationReport

__all__ = ["OB2_CONTEXT", "is_ob2", "is_ob2_jws", "recipient_matches", "verify_hosted", "verify_signed"]
HOSTED, SIGNED = ("hosted", "HostedBadge"), ("signed", "SignedBadge")
_list = as_list


def _id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://"))


def is_ob2(item: Any) -> bool:
    """An OB 2.0 assertion (by its context, or its type when the context is wrong or missing)."""
    if not isinstance(item, dict):
        return False
    return OB2_CONTEXT in _list(item.get("@context")) or "Assertion" in _list(item.get("type"))


def is_ob2_jws(token: str) -> bool:
    try:
        return is_ob2(decode_unverified(token)[1])
    except VerifierError:
        return False


class _Related:
    """The BadgeClass and issuer Profile of an assertion, each from its own id, and what went wrong."""

    def __init__(self, assertion: dict[str, Any], fetcher: Fetcher | None, *, signed: bool,
                 known: Collection[str] = ()) -> None:
        self.fetcher = fetcher
        self.error: str | None = None
        self.badge = self._badge_class(assertion.get("badge"), signed)
        self.issuer = self._profile(self.badge.get("issuer"), known) if self.badge else {}

    def _fail(self, message: str) -> dict[str, Any]:
        self.error = self.error or message
        return {}

    def fetch_own(self, url: Any, what: str) -> dict[str, Any]:
        """The document at `url`, which must say it is `url` (the same fetch rules as everything)."""
        if not _is_url(url):
            return self._fail(f"The {what} must be published at its own https URL; its id is {url!r}.")
        if self.fetcher is None:
            return self._fail(f"The {what} at {url} could not be checked offline.")
        try:
            fetched = self.fetcher.get_json(url)
        except VerifierError as exc:
            return self._fail(f"The {what} could not be fetched: {exc.message}")
        if not isinstance(fetched, dict):
            return self._fail(f"The {what} at {url} is not a JSON object.")
        if fetched.get("id") != url:
            return self._fail(f"The document at {url} says it is {fetched.get('id')!r}: a {what} counts only "
                              "when published at its own id.")
        return fetched

    def _badge_class(self, value: Any, signed: bool) -> dict[str, Any]:
        if signed and isinstance(value, dict) and not _is_url(value.get("id")):
            return value  # an ephemeral BadgeClass inside a signed assertion: the signature covers it
        if value is None:
            return self._fail("The badge class is missing.")
        return self.fetch_own(_id(value), "badge class")

    def _profile(self, value: Any, known: Collection[str]) -> dict[str, Any]:
        if _id(value) in known:
            return self._fail(f"{_id(value)} is a known issuer whose own documents hold no Open Badges 2.0 profile.")
        return self.fetch_own(_id(value), "issuer profile")


def verify_hosted(assertion: dict[str, Any], *, origin: str | None = None, now: datetime | None = None,
                  fetcher: Fetcher | None = None, recipient: str | None = None,
                  known_issuers: Collection[str] = ()) -> VerificationReport:
    """Verify a hosted OB 2.0 assertion (the copy at its id URL is the one that counts)."""
    kind = _list((assertion.get("verification") or assertion.get("verify") or {}).get("type"))
    if kind and set(map(str, kind)) & set(SIGNED):
        related = _Related(assertion, fetcher, signed=True, known=known_issuers)
        return _report(assertion, "signed", now, recipient, fetcher, related,
                       _fail("proof", "This assertion says it is signed, but no signature (JWS) was given.",
                             "proof_missing", "No signature"))
    hosted_copy, proof = _hosted_proof(assertion, origin, fetcher)
    authority = hosted_copy or assertion
    related = _Related(authority, fetcher, signed=False, known=known_issuers)
    return _report(authority, "hosted", now, recipient, fetcher, related, proof, url_to_allow=assertion.get("id"))


def verify_signed(token: str, *, now: datetime | None = None, fetcher: Fetcher | None = None,
                  recipient: str | None = None, known_issuers: Collection[str] = ()) -> VerificationReport:
    """Verify a signed OB 2.0 assertion given as a compact JWS."""
    header, assertion = decode_unverified(token)
    related = _Related(assertion, fetcher, signed=True, known=known_issuers)
    proof = _signed_proof(token, header, assertion, related)
    return _report(assertion, "signed", now, recipient, fetcher, related, proof)


def _hosted_proof(assertion: dict[str, Any], origin: str | None,
                  fetcher: Fetcher | None) -> tuple[dict[str, Any] | None, Outcome]:
    url = assertion.get("id")
    if not _is_url(url):
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
    return hosted, (Check("proof", Status.PASSED, f"The assertion is hosted at {url}{fetched}{note}."), [])


def _signed_proof(token: str, header: dict[str, Any], assertion: dict[str, Any], related: _Related) -> Outcome:
    if header.get("alg") != "RS256":
        return _fail("proof", f"Open Badges 2.0 signatures use RS256, not {header.get('alg')!r}.",
                     "jws_algorithm_unsupported", "Unsupported signature")
    if related.fetcher is None:
        return _fail("proof", "The signing key of this signed badge could not be checked offline (it is "
                     "published on the issuer's site).", "offline", "Not checked offline")
    if related.error:
        return _fail("proof", f"The signing key could not be looked up: {related.error}", "key_unresolved",
                     "Key not found")
    try:
        for key_doc in _issuer_keys(assertion, related):
            key = load_pem_public_key(str(key_doc.get("publicKeyPem", "")).encode())
            if not isinstance(key, rsa.RSAPublicKey):
                raise ProofError(f"The issuer's key {key_doc.get('id')} is not an RSA key.", code="key_format")
            verify_jws(token, key, "RS256")
            return Check("proof", Status.PASSED, f"The signature (RS256) is valid and made with the issuer's key "
                         f"{key_doc.get('id')}."), []
    except ValueError:
        return _fail("proof", "The issuer's key (publicKeyPem) cannot be read.", "key_format", "Unreadable key")
    except VerifierError as exc:
        return _fail("proof", f"The signature is not valid: {exc.message}", exc.code, exc.title)
    return _fail("proof", "The issuer publishes no key (publicKey) to check this signature with.", "key_unresolved",
                 "No key")


def _issuer_keys(assertion: dict[str, Any], related: _Related) -> list[dict[str, Any]]:
    """The keys to try: verification.creator if the issuer's own publicKey lists it, else every key
    it lists; each read from its own id (or embedded in the issuer's own profile) and owned by it."""
    issuer_id = related.issuer.get("id")
    listed = {_id(k): k for k in _list(related.issuer.get("publicKey")) if isinstance(_id(k), str)}
    verification = assertion.get("verification") if isinstance(assertion.get("verification"), dict) else {}
    creator = _id(verification.get("creator"))
    if creator is not None and creator not in listed:
        raise ProofError(f"The assertion was signed with the key {creator}, which the issuer {issuer_id} does not "
                         "list in its publicKey.", code="issuer_key_mismatch")
    keys = []
    for key_id in [creator] if creator is not None else list(listed):
        embedded = listed[key_id]
        in_profile = isinstance(embedded, dict) and "publicKeyPem" in embedded  # the issuer's own profile holds it
        key_doc = embedded if in_profile else related.fetch_own(key_id, "signing key")
        if not key_doc:
            raise ProofError(related.error or "The signing key could not be read.", code="key_unresolved")
        if key_doc.get("owner") != issuer_id:
            raise ProofError(f"The key {key_id} belongs to {key_doc.get('owner')!r}, not to the issuer {issuer_id}.",
                             code="issuer_key_mismatch")
        keys.append(key_doc)
    return keys


def _report(assertion: dict[str, Any], mode: str, now: datetime | None, recipient: str | None,
            fetcher: Fetcher | None, related: _Related, proof: Outcome, *,
            url_to_allow: Any = None) -> VerificationReport:
    now = now or datetime.now(UTC)
    parsed = check_parse(assertion)
    if parsed[0].status is Status.FAILED:
        return VerificationReport((parsed[0],), tuple(parsed[1]))
    outcomes = [parsed, check_context(assertion), check_schema(assertion), proof,
                _check_issuer(related, mode, url_to_allow, proof[0].ok), check_validity(assertion, now),
                _check_status(assertion, related, fetcher), check_recipient(assertion, recipient)]
    expanded = dict(assertion)
    if related.badge:  # what the summary shows: the issuer only as its own profile says, else just its id
        expanded["badge"] = {**related.badge, "issuer": related.issuer or _id(related.badge.get("issuer"))}
    return VerificationReport(tuple(c for c, _ in outcomes), tuple(p for _, ps in outcomes for p in ps),
                              version=f"Open Badges 2.0 ({mode})", credential=expanded)


def _check_issuer(related: _Related, mode: str, url: Any, proof_ok: bool) -> Outcome:
    if related.error:
        message = f"Issuer not confirmed: {related.error}"
        return _fail("issuer", message, "issuer_not_confirmed", "Issuer not confirmed")
    issuer = related.issuer
    if not ({"Issuer", "Profile"} & set(map(str, _list(issuer.get("type"))))):
        return _fail("issuer", "The badge's issuer is not an Issuer profile.", "issuer_invalid", "Invalid issuer")
    name = issuer.get("name") or issuer.get("id")
    if mode == "hosted" and isinstance(url, str) and not _origin_allowed(url, issuer):
        return _fail("issuer", f"The assertion is hosted at {url}, which {name} does not allow for its badges.",
                     "hosted_origin_not_allowed", "Hosted on a site the issuer does not allow")
    if not proof_ok:
        return Check("issuer", Status.FAILED, f"Names {name} ({issuer.get('id')}) as issuer, but nothing that issuer "
                     "published proves it."), []
    return Check("issuer", Status.PASSED, f"Issued by {name} ({issuer.get('id')}), from its own published profile."), []


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


