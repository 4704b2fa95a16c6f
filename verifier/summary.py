"""What a verified credential says, in a few typed fields: who issued what, to whom, when.

OB 3.0: the AchievementCredential's issuer, credentialSubject.achievement, awardedDate (else
validFrom / issuanceDate), validUntil / expirationDate, creditsEarned and relatedResource (the
credentials it re-issues). OB 2.0: the assertion, its BadgeClass and issuer Profile (embedded
by the OB 2.0 verifier once fetched), issuedOn and expires.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .report import VerificationReport
from .timeutil import parse_datetime, parse_lenient_datetime


@dataclass(frozen=True)
class CredentialSummary:
    credential_id: str | None
    issuer_id: str | None
    issuer_name: str | None
    achievement_id: str | None
    achievement_name: str | None
    achievement_type: str | None
    human_code: str | None
    earned: datetime | None
    valid_until: datetime | None
    credits_earned: float | None
    replaces: tuple[str, ...]
    spec: str  # "ob3" | "ob2" | "vc"
    recipient_names: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        def when(moment: datetime | None) -> str | None:
            return moment.isoformat().replace("+00:00", "Z") if moment else None

        return {
            "id": self.credential_id, "spec": self.spec,
            "issuer": {"id": self.issuer_id, "name": self.issuer_name},
            "achievement": {"id": self.achievement_id, "name": self.achievement_name,
                            "type": self.achievement_type, "humanCode": self.human_code},
            "earned": when(self.earned), "validUntil": when(self.valid_until),
            "creditsEarned": self.credits_earned, "replaces": list(self.replaces),
            "recipientNames": list(self.recipient_names),
        }


def summarize(report: VerificationReport) -> CredentialSummary | None:
    """The summary of the report's credential, or None when nothing readable was verified."""
    document = report.credential
    if not isinstance(document, dict):
        return None
    if (report.version or "").startswith("Open Badges 2.0"):
        return _ob2(document)
    spec = "ob3" if (report.version or "").startswith("Open Badges 3.0") else "vc"
    return _ob3(document, spec)


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):  # a JSON-LD language map or value object
        inner = value.get("@value")
        return inner if isinstance(inner, str) else next((v for v in value.values() if isinstance(v, str)), None)
    if isinstance(value, list):
        return next((t for t in map(_text, value) if t), None)
    return None


def _id(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    return value.get("id") if isinstance(value, dict) and isinstance(value.get("id"), str) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value)
    except ValueError:
        return None


def _first_subject(document: dict[str, Any]) -> dict[str, Any]:
    subject = document.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    return subject if isinstance(subject, dict) else {}


def _ob3(document: dict[str, Any], spec: str) -> CredentialSummary:
    subject = _first_subject(document)
    achievement = subject.get("achievement") if isinstance(subject.get("achievement"), dict) else {}
    issuer = document.get("issuer")
    earned = (parse_datetime(document.get("awardedDate")) or parse_datetime(document.get("validFrom"))
              or parse_datetime(document.get("issuanceDate")))
    until = parse_datetime(document.get("validUntil")) or parse_datetime(document.get("expirationDate"))
    credits = subject.get("creditsEarned")
    related = document.get("relatedResource")
    related = related if isinstance(related, list) else [related] if related else []
    names = [_text(subject.get("name"))] + [_text(i.get("identityHash")) for i in _list(subject.get("identifier"))
                                             if isinstance(i, dict) and i.get("identityType") == "name"
                                             and not i.get("hashed")]
    return CredentialSummary(
        credential_id=_id(document), issuer_id=_id(issuer),
        issuer_name=_text(issuer.get("name")) if isinstance(issuer, dict) else None,
        achievement_id=_id(achievement), achievement_name=_text(achievement.get("name")),
        achievement_type=_text(achievement.get("achievementType")), human_code=_text(achievement.get("humanCode")),
        earned=earned, valid_until=until, credits_earned=_number(credits),
        replaces=tuple(i for i in map(_id, related) if i), spec=spec,
        recipient_names=tuple(n for n in names if n),
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def _ob2(assertion: dict[str, Any]) -> CredentialSummary:
    badge = assertion.get("badge") if isinstance(assertion.get("badge"), dict) else {}
    issuer = badge.get("issuer")
    return CredentialSummary(
        credential_id=_id(assertion), issuer_id=_id(issuer),
        issuer_name=_text(issuer.get("name")) if isinstance(issuer, dict) else None,
        achievement_id=_id(assertion.get("badge")), achievement_name=_text(badge.get("name")),
        achievement_type=None, human_code=None,
        earned=parse_lenient_datetime(assertion.get("issuedOn")),
        valid_until=parse_lenient_datetime(assertion.get("expires")),
        credits_earned=None, replaces=(), spec="ob2",
    )
