"""The licensure office's renewal report: which presented credentials count, for how many PDPs.

Pure library (no Flask, no database). The caller supplies the verification reports, the
registry of recognised issuers and the PDP rule (a callable, so the catalogue's dated policy
stays the application's business). Every credential gets one verdict: counted, or excluded
for the first reason that applies, in the stable order of EXCLUSIONS.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .checks import check_recipient
from .report import Status, VerificationReport
from .summary import CredentialSummary as Summary
from .summary import summarize as summary_of

# Stable reason codes, in the order they are tested; the message says the particulars.
EXCLUSIONS = {
    "not_verified": "Not verified",
    "status_unknown": "Revocation status could not be checked",
    "revoked": "Revoked or suspended by the issuer",
    "expired": "Expired",
    "issuer_not_recognised": "Issuer not recognised",
    "outside_license_period": "Earned outside the license's validity period",
    "not_this_educator": "Not this educator's credential",
    "duplicate": "Duplicate of a micro-credential already counted",
}

LICENSE_TYPES = {
    "professional": "Professional license renewal",
    "practitioner": "Practitioner license renewal",
    "advancement": "Practitioner license advancement (to Professional)",
}
DEFAULT_THRESHOLDS = {"professional": 60.0, "practitioner": 30.0, "advancement": 30.0}
_VERSION = re.compile(r"/v/\d+$")


@dataclass(frozen=True)
class Educator:
    name: str
    email: str
    license_number: str
    license_type: str  # a key of LICENSE_TYPES (or of the policy's thresholds)
    valid_from: date
    valid_until: date


@dataclass(frozen=True)
class TrustedIssuer:
    """A registry entry: credentials from `id` earned on since..until (inclusive) are recognised."""

    id: str
    name: str
    since: date
    until: date | None = None

    def recognises(self, earned: date) -> bool:
        return self.since <= earned and (self.until is None or earned <= self.until)


@dataclass(frozen=True)
class RenewalPolicy:
    """PDP thresholds per license type and the PDP value of a credential (None: no rule in force)."""

    pdp_value: Callable[[Any], float | None]
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))

    def threshold(self, license_type: str) -> float:
        if license_type not in self.thresholds:
            raise ValueError(f"Unknown license type {license_type!r}: expected one of {', '.join(self.thresholds)}.")
        return self.thresholds[license_type]


@dataclass(frozen=True)
class RenewalEntry:
    """One presented credential's verdict."""

    source: str  # how it was presented: a file name, a URL, "pasted #2"
    report: VerificationReport
    summary: Summary | None
    counted: bool
    reason: str | None  # a key of EXCLUSIONS when excluded
    message: str
    pdps: float = 0.0
    notes: tuple[str, ...] = ()

    @property
    def reason_title(self) -> str:
        return EXCLUSIONS.get(self.reason or "", "Counted")

    def to_json(self) -> dict[str, Any]:
        s = self.summary
        return {
            "source": self.source, "counted": self.counted, "reason": self.reason, "message": self.message,
            "pdps": self.pdps, "notes": list(self.notes), "verified": self.report.verified,
            "credential_id": s.credential_id if s else None, "issuer": s.issuer_id if s else None,
            "issuer_name": s.issuer_name if s else None, "achievement": s.achievement_name if s else None,
            "earned": s.earned.date().isoformat() if s and s.earned else None,
        }


@dataclass(frozen=True)
class RenewalReport:
    educator: Educator
    entries: tuple[RenewalEntry, ...]
    total: float
    threshold: float

    @property
    def met(self) -> bool:
        return self.total >= self.threshold

    @property
    def license_label(self) -> str:
        return LICENSE_TYPES.get(self.educator.license_type, self.educator.license_type)

    def to_json(self) -> dict[str, Any]:
        e = self.educator
        return {
            "educator": {"name": e.name, "email": e.email, "license_number": e.license_number,
                         "license_type": e.license_type, "valid_from": e.valid_from.isoformat(),
                         "valid_until": e.valid_until.isoformat()},
            "total": self.total, "threshold": self.threshold, "met": self.met,
            "entries": [entry.to_json() for entry in self.entries],
        }


def summarize(report: VerificationReport) -> Summary | None:
    """The report's summary (verify_presented makes one), else one read from its credential."""
    return report.summary if report.summary is not None else summary_of(report)


def micro_credential_key(summary: Summary) -> tuple[str, str]:
    """The same micro-credential from the same issuer, whatever badge-class version it was earned under."""
    issuer = summary.issuer_id or ""
    if summary.achievement_id:
        return issuer, _VERSION.sub("", summary.achievement_id)
    return issuer, "code:" + (summary.human_code or summary.achievement_name or summary.credential_id or "")


def renewal_report(educator: Educator, presented: Iterable[tuple[str, VerificationReport]], *,
                   registry: Sequence[TrustedIssuer], policy: RenewalPolicy) -> RenewalReport:
    """Every presented (source, report) judged for this educator; ValueError for an unknown license type."""
    threshold = policy.threshold(educator.license_type)
    by_issuer: dict[str, list[TrustedIssuer]] = {}
    for entry in registry:
        by_issuer.setdefault(entry.id, []).append(entry)
    first = [_first_pass(source, report, educator, by_issuer) for source, report in presented]
    entries = _deduplicate(first, policy)
    total = round(sum(e.pdps for e in entries if e.counted), 2)
    return RenewalReport(educator, tuple(entries), total, threshold)


def _excluded(source: str, report: VerificationReport, summary: Summary | None, reason: str,
              message: str) -> RenewalEntry:
    return RenewalEntry(source, report, summary, False, reason, message)


def _first_pass(source: str, report: VerificationReport, educator: Educator,
                by_issuer: dict[str, list[TrustedIssuer]]) -> RenewalEntry:
    """Every reason but duplicate; an eligible credential comes back counted (PDPs set later)."""
    summary = summarize(report)
    reason = _check_reason(report)
    if reason:
        return _excluded(source, report, summary, *reason)
    if summary is None or summary.earned is None:
        return _excluded(source, report, summary, "not_verified", "The credential does not say when it was earned.")
    earned = summary.earned.date()
    entries = by_issuer.get(summary.issuer_id or "", [])
    if not entries:
        return _excluded(source, report, summary, "issuer_not_recognised",
                         f"{summary.issuer_name or summary.issuer_id} is not in the licensure office's registry "
                         "of recognised issuers.")
    if not any(e.recognises(earned) for e in entries):
        spans = "; ".join(f"{e.since} to {e.until or 'now'}" for e in entries)
        return _excluded(source, report, summary, "issuer_not_recognised",
                         f"Earned on {earned}, when {entries[0].name} was not recognised (recognised {spans}).")
    if not educator.valid_from <= earned <= educator.valid_until:
        return _excluded(source, report, summary, "outside_license_period",
                         f"Earned on {earned}, outside the license's validity period "
                         f"{educator.valid_from} to {educator.valid_until}.")
    if not _belongs(report, educator):
        return _excluded(source, report, summary, "not_this_educator",
                         f"The credential was not issued to {educator.email}.")
    return RenewalEntry(source, report, summary, True, None, "Counted.")


def _check_reason(report: VerificationReport) -> tuple[str, str] | None:
    """A reason from the verification checks themselves, in EXCLUSIONS order (recipient is judged later)."""
    if not report.checks:
        return "not_verified", "The credential could not be read."
    status, validity = report.check("status"), report.check("validity")
    expired = validity is not None and not validity.ok and any(p.code == "expired" for p in report.problems)
    for check in report.checks:
        if check.id == "recipient" or (check.id == "validity" and expired):
            continue
        if check.id == "status" and check.status is Status.FAILED:
            continue  # revoked: after every reason of not being verified
        if check.status is Status.FAILED:
            return "not_verified", check.message
        if check.id == "issuer" and check.status is Status.WARNING:
            return "not_verified", check.message  # a key nothing binds to the issuer proves nothing
        if check.id == "status" and check.status is Status.WARNING:
            # Revocation cannot be ruled out; unlike a failed check, trying again later may succeed.
            return "status_unknown", check.message
    if status is not None and status.status is Status.FAILED:
        return "revoked", status.message
    if expired and validity is not None:
        return "expired", validity.message
    return None


def _belongs(report: VerificationReport, educator: Educator) -> bool:
    check = report.check("recipient")
    if check is not None and check.status is not Status.SKIPPED:
        return check.ok
    if not isinstance(report.credential, dict):
        return False
    return check_recipient(report.credential, educator.email)[0].ok


def _deduplicate(entries: list[RenewalEntry], policy: RenewalPolicy) -> list[RenewalEntry]:
    """One counted credential per micro-credential: same id, same class, or linked by re-issue."""
    parent = list(range(len(entries)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[Any, int] = {}
    for i, entry in enumerate(entries):
        s = entry.summary
        if not entry.counted or s is None:
            continue
        keys: list[Any] = [("class", micro_credential_key(s))]
        keys += [("id", s.credential_id)] if s.credential_id else []
        keys += [("id", old) for old in s.replaces]
        for key in keys:
            if key in seen:
                parent[find(i)] = find(seen[key])
            else:
                seen[key] = i
    groups: dict[int, list[int]] = {}
    for i, entry in enumerate(entries):
        if entry.counted:
            groups.setdefault(find(i), []).append(i)
    out = list(entries)
    for members in groups.values():
        keep = _preferred(entries, members)
        for i in members:
            out[i] = _valued(entries[i], policy) if i == keep else _duplicate(entries[i], entries[keep])
    return out


def _preferred(entries: list[RenewalEntry], members: list[int]) -> int:
    """The newest of a re-issue chain (nothing presented replaces it), then the earliest earned, then first."""
    replaced = {old for i in members for old in (entries[i].summary.replaces if entries[i].summary else ())}

    def rank(i: int) -> tuple[bool, str, int]:
        s = entries[i].summary
        earned = s.earned.isoformat() if s and s.earned else "9999"
        return (bool(s and s.credential_id in replaced), earned, i)

    return min(members, key=rank)


def _duplicate(entry: RenewalEntry, kept: RenewalEntry) -> RenewalEntry:
    s, k = entry.summary, kept.summary
    if s and k and s.credential_id and s.credential_id == k.credential_id:
        message = f"The same credential was presented twice (counted as {kept.source})."
    elif s and k and (k.credential_id in s.replaces or s.credential_id in k.replaces):
        message = f"A re-issue of the same micro-credential; {kept.source} is counted instead."
    else:
        message = (f"{s.achievement_name if s else 'This micro-credential'} was already counted "
                   f"({kept.source}); a micro-credential counts once.")
    return RenewalEntry(entry.source, entry.report, entry.summary, False, "duplicate", message)


def _valued(entry: RenewalEntry, policy: RenewalPolicy) -> RenewalEntry:
    s = entry.summary
    value = policy.pdp_value(s)
    notes: list[str] = []
    if value is None:
        value = 0.0
        notes.append("No PDP rule was in force on the date earned: it counts 0 PDPs.")
    if s and s.credits_earned is not None and abs(s.credits_earned - value) > 1e-9:
        notes.append(f"The credential states {s.credits_earned:g} credits earned; the rule in force on the date "
                     f"earned gives {value:g} PDPs, which is what counts.")
    return RenewalEntry(entry.source, entry.report, entry.summary, True, None,
                        f"Counted: {value:g} PDPs.", float(value), tuple(notes))
