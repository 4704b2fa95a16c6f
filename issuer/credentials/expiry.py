"""Credentials that expire: validUntil from the badge class's validity period, reminders, renewal.

A badge class version with `valid_for_months` gives each credential a validUntil that many
calendar months after issuance. Teachers are reminded once per credential (an audit event records
it), and may start the class again from RENEWAL_WINDOW before it expires. The renewal is a new
credential whose replaces_id names the old one, which stays as it is and expires on its own: a
licensure count follows replaces_id (or the document's relatedResource) and counts the MC once.
"""

from __future__ import annotations

import calendar
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from badge_classes import BadgeClass

from ..audit import record_event
from ..mail import queue_mail
from ..models import AuditEvent, Credential

RENEWAL_WINDOW = timedelta(days=90)
REMINDED = "credential.expiry_reminded"


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months later, the day clamped to the month's length (31 January + 1 = 28/29 February)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    return moment.replace(year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1]))


def valid_until_for(badge: BadgeClass, issued_at: datetime) -> datetime | None:
    """When a credential of this badge class version issued at `issued_at` expires (None: never)."""
    return add_months(issued_at, badge.valid_for_months) if badge.valid_for_months else None


def _not_replaced():
    replaced = select(Credential.replaces_id).where(Credential.replaces_id.is_not(None))
    return Credential.credential_id.not_in(replaced)


def current_credential(session: Session, *, user_id: int, slug: str) -> Credential | None:
    """The teacher's newest active credential for a badge class that no other credential replaces."""
    return session.scalars(
        select(Credential)
        .where(Credential.recipient_user_id == user_id, Credential.achievement_slug == slug,
               Credential.status == "active", _not_replaced())
        .order_by(Credential.issued_at.desc(), Credential.id.desc()).limit(1)).first()


def renewal_refusal(credential: Credential | None, *, title: str, now: datetime) -> str | None:
    """Why a teacher who earned the class may not start it again (None: they may renew it)."""
    if credential is None:
        return f"You have already earned “{title}”."
    if credential.valid_until is None:
        return f"You have already earned “{title}”; it does not expire."
    until = _aware(credential.valid_until)
    opens = until - RENEWAL_WINDOW
    if now < opens:
        return (f"You have already earned “{title}”. It is valid until {_day(until)}; you can renew it from "
                f"{_day(opens)}.")
    return None


def queue_expiry_reminders(session: Session, *, within_days: int, now: datetime, public_url: str) -> int:
    """Queue one 'expiry_reminder' mail per active credential expiring within `within_days` that was
    not reminded yet (nor renewed); returns how many were queued."""
    now = now.astimezone(UTC)
    reminded = select(AuditEvent.subject).where(AuditEvent.action == REMINDED)
    due = session.scalars(
        select(Credential)
        .where(Credential.status == "active", Credential.valid_until > now,
               Credential.valid_until <= now + timedelta(days=within_days),
               Credential.credential_id.not_in(reminded), _not_replaced())
        .order_by(Credential.valid_until, Credential.id)).all()
    for credential in due:
        title = json.loads(credential.document)["credentialSubject"]["achievement"]["name"]
        until = _aware(credential.valid_until)
        base = public_url.rstrip("/")
        queue_mail(session, to=credential.recipient_email, kind="expiry_reminder",
                   subject=f"Your credential “{title}” expires on {_day(until)}",
                   body=(f"Your micro-credential “{title}” is valid until {_day(until)}: "
                         f"{base}/credentials/{credential.public_id}\n\n"
                         f"To renew it, start it again and submit the evidence it asks for: "
                         f"{base}/achievements/{credential.achievement_slug}\n"
                         f"Renewal opens {RENEWAL_WINDOW.days} days before a credential expires.\n"))
        record_event(session, actor="system:expiry", action=REMINDED, subject=credential.credential_id,
                     detail={"valid_until": until.strftime("%Y-%m-%dT%H:%M:%SZ"), "within_days": within_days})
    return len(due)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite returns naive UTC


def _day(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"
