"""The licensure office's verdicts in plain words, and renewal reports as CSV (web page, batch, CLI)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from verifier.renewal import EXCLUSIONS, LICENSE_TYPES, Educator, RenewalReport, TrustedIssuer, summarize
from verifier.report import Status, VerificationReport

from ..audit import record_event
from ..errors import InvalidInput
from .verification import parse_day

ENTRY_COLUMNS = ("source", "verified", "counted", "pdps", "reason", "reason_title", "message", "notes", "issuer",
                 "issuer_name", "achievement", "earned", "credential_id", "format")
SUMMARY_COLUMNS = ("name", "email", "license_number", "license_type", "license_valid_from", "license_valid_until",
                   "credentials", "counted", "pdps_total", "threshold", "met", "excluded")


@dataclass(frozen=True)
class Verdict:
    """A report in words for a licensure clerk: a headline, and one line per check."""

    ok: bool
    headline: str
    lines: tuple[tuple[str, str, str], ...]  # (check id, status, message)
    version: str | None
    details: dict[str, Any]


def verdict(report: VerificationReport, registry: tuple[TrustedIssuer, ...] = ()) -> Verdict:
    summary = summarize(report)
    failed = next((c for c in report.checks if not c.ok), None)
    if failed is not None:
        headline = f"Not verified: {failed.message}"
    else:
        who = (summary.issuer_name or summary.issuer_id) if summary else "the issuer"
        what = f"“{summary.achievement_name}”" if summary and summary.achievement_name else "a credential"
        when = f", earned on {summary.earned.date()}" if summary and summary.earned else ""
        headline = f"Verified: {what} from {who}{when}."
        warnings = [c.message for c in report.checks if c.status is Status.WARNING]
        if warnings:
            headline += " With a caution: " + warnings[0]
    known = {entry.id for entry in registry}
    if summary and summary.issuer_id and registry and failed is None and summary.issuer_id not in known:
        headline += " The issuer is not in the licensure office's registry: it counts no PDPs."
    details = {}
    if summary:
        details = {"Issuer": summary.issuer_name or summary.issuer_id, "Issuer id": summary.issuer_id,
                   "Micro-credential": summary.achievement_name, "Earned": summary.earned.date() if summary.earned else None,
                   "Valid until": summary.valid_until.date() if summary.valid_until else None,
                   "Credits stated": summary.credits_earned, "Credential id": summary.credential_id}
    lines = tuple((c.id, c.status.value, c.message) for c in report.checks)
    return Verdict(report.verified, headline, lines, report.version,
                   {k: v for k, v in details.items() if v not in (None, "")})


class EducatorInvalid(InvalidInput):
    """An educator's details (name, email, license) cannot be used as given."""

    code = "educator_invalid"


def educator_from(fields: dict[str, str], thresholds: dict[str, float]) -> Educator:
    """An Educator from form or CSV fields; EducatorInvalid (or InvalidInput for a date) naming the wrong field."""
    name = (fields.get("name") or "").strip()
    email = (fields.get("email") or "").strip().lower()
    number = (fields.get("license_number") or "").strip()
    kind = (fields.get("license_type") or "").strip().lower()
    if not name:
        raise EducatorInvalid("The educator's name is missing.")
    if "@" not in email:
        raise EducatorInvalid(f"The email {fields.get('email')!r} is not an email address.")
    if not number:
        raise EducatorInvalid("The license number is missing.")
    if kind not in thresholds:
        raise EducatorInvalid(f"The license type {fields.get('license_type')!r} is not one of {', '.join(thresholds)}.")
    start = parse_day(fields.get("license_valid_from", ""), "license_valid_from")
    end = parse_day(fields.get("license_valid_until", ""), "license_valid_until")
    if end < start:
        raise EducatorInvalid(f"The license ends ({end}) before it starts ({start}).")
    return Educator(name, email, number, kind, start, end)


def entry_row(entry: Any) -> dict[str, Any]:
    s = entry.summary
    return {
        "source": entry.source, "verified": "yes" if entry.report.verified else "no",
        "counted": "yes" if entry.counted else "no", "pdps": f"{entry.pdps:g}", "reason": entry.reason or "",
        "reason_title": EXCLUSIONS.get(entry.reason or "", ""), "message": entry.message,
        "notes": " ".join(entry.notes), "issuer": (s.issuer_id if s else "") or "",
        "issuer_name": (s.issuer_name if s else "") or "", "achievement": (s.achievement_name if s else "") or "",
        "earned": s.earned.date().isoformat() if s and s.earned else "",
        "credential_id": (s.credential_id if s else "") or "", "format": entry.report.version or "",
    }


def summary_row(report: RenewalReport) -> dict[str, Any]:
    e = report.educator
    reasons = Counter(entry.reason for entry in report.entries if not entry.counted)
    return {
        "name": e.name, "email": e.email, "license_number": e.license_number, "license_type": e.license_type,
        "license_valid_from": e.valid_from.isoformat(), "license_valid_until": e.valid_until.isoformat(),
        "credentials": len(report.entries), "counted": sum(1 for x in report.entries if x.counted),
        "pdps_total": f"{report.total:g}", "threshold": f"{report.threshold:g}", "met": "yes" if report.met else "no",
        "excluded": "; ".join(f"{code}: {n}" for code, n in sorted(reasons.items())),
    }


def renewal_csv(report: RenewalReport) -> str:
    """The renewal report as CSV: the educator's summary, a blank line, one row per credential."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerow(safe_row(summary_row(report)))
    out.write("\n")
    writer = csv.DictWriter(out, fieldnames=ENTRY_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for entry in report.entries:
        writer.writerow(safe_row(entry_row(entry)))
    return out.getvalue()


def safe_row(row: dict[str, Any]) -> dict[str, Any]:
    """Cells a spreadsheet would run as a formula get a leading apostrophe (CSV injection)."""
    return {k: ("'" + v if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r") else v)
            for k, v in row.items()}


def license_types(thresholds: dict[str, float]) -> list[tuple[str, str]]:
    return [(key, f"{LICENSE_TYPES.get(key, key)} ({value:g} PDPs)") for key, value in thresholds.items()]


def record_renewal(session: Session, report: RenewalReport, *, actor: str, output: str) -> None:
    """Audit a renewal report the office produced: who, for which license, the figures (never a credential)."""
    e = report.educator
    record_event(session, actor=actor, action="renewal.report", subject=f"license:{e.license_number}", detail={
        "license_number": e.license_number, "license_type": e.license_type, "credentials": len(report.entries),
        "counted": sum(1 for x in report.entries if x.counted), "total": report.total,
        "threshold": report.threshold, "met": report.met, "output": output,
    })
