"""Assessors: the review queue and the decision, which on "earned" issues the credential.

The decision is one transaction: a compare-and-set on the submission's state and revision
(so a double click, a second tab or a second assessor finds it already decided), the
judgements, and for "earned" the signed, verified credential, whose submission_id is unique.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from badge_classes import BadgeClass, PdpPolicy

from ..audit import record_event
from ..catalog.versions import badge_version
from ..credentials.evidence import evidence_entries, results
from ..credentials.expiry import current_credential, valid_until_for
from ..credentials.issuance import issue_credential
from ..errors import Conflict, Forbidden, InvalidInput
from ..identity import IssuerIdentity
from ..mail import queue_mail
from ..models import Attempt, BadgeClassRecord, Credential, District, Judgement, Submission, User
from ..models.work import seconds_between
from .eligibility import may_review, reviewable_by
from .submissions import Work, load, now_utc

DECISIONS = ("earned", "not_yet")


class DecisionInvalid(InvalidInput):
    """The judgement form is incomplete or inconsistent; `problems` are (field, message) pairs."""

    code = "decision_invalid"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("The decision was not recorded: " + "; ".join(m for _, m in problems))


class AlreadyDecided(Conflict):
    code = "already_decided"


@dataclass(frozen=True)
class QueueItem:
    submission_id: int
    badge_title: str
    slug: str
    attempt: int
    submitted_at: datetime
    district: str | None  # None when reviews are blind


def review_queue(session: Session, *, assessor: User, own_district_allowed: bool, blind: bool,
                 slug: str | None = None, district_id: int | None = None, older_than_days: int | None = None,
                 now: datetime | None = None) -> list[QueueItem]:
    """Submitted work this assessor may judge, oldest first, with optional filters."""
    query = (select(Submission, BadgeClassRecord.slug).join(BadgeClassRecord)
             .where(Submission.state == "submitted",
                    *reviewable_by(assessor, own_district_allowed=own_district_allowed))
             .order_by(Submission.submitted_at, Submission.id))
    if slug:
        query = query.where(BadgeClassRecord.slug == slug)
    if district_id is not None and not blind:
        query = query.where(Submission.district_id == district_id)
    if older_than_days:
        query = query.where(Submission.submitted_at <= (now or now_utc()) - timedelta(days=older_than_days))
    districts = {d.id: d.name for d in session.scalars(select(District))}
    items = []
    titles: dict[tuple[str, int], str] = {}  # one lookup per badge class version, not per submission
    for sub, sub_slug in session.execute(query):
        version = (sub_slug, sub.badge_version)
        if version not in titles:
            titles[version] = badge_version(session, sub_slug, sub.badge_version).title
        items.append(QueueItem(sub.id, titles[version], sub_slug, len(sub.attempts), sub.submitted_at,
                               None if blind else districts.get(sub.district_id)))
    return items


def load_for_review(session: Session, submission_id: int, *, assessor: User, own_district_allowed: bool) -> Work:
    """The submission for an assessor; Forbidden when they may not judge it."""
    work = load(session, submission_id)
    reason = may_review(assessor, work.submission, own_district_allowed=own_district_allowed)
    if reason:
        raise Forbidden(reason)
    return work


def decide(session: Session, submission_id: int, *, assessor: User, levels: dict[str, str],
           feedback: dict[str, str], overall: str, decision: str, revision: int, identity: IssuerIdentity,
           policy: PdpPolicy, own_district_allowed: bool, now: datetime | None = None) -> Credential | None:
    """Record the judgement; on "earned" issue the credential. Returns it (or None for "not yet").

    Raises DecisionInvalid, AlreadyDecided (a conflict), Forbidden.
    """
    now = now or now_utc()
    work = load_for_review(session, submission_id, assessor=assessor, own_district_allowed=own_district_allowed)
    badge, sub = work.badge, work.submission
    if sub.state != "submitted" or sub.revision != revision:
        raise AlreadyDecided("This submission was already decided, withdrawn or changed since you opened it; "
                             "nothing was recorded. Reload the queue.")
    _check_decision(badge, levels, feedback, decision)
    levels = {c.id: levels[c.id] for c in badge.criteria}  # only the badge's criteria are recorded
    claimed = session.execute(
        update(Submission)
        .where(Submission.id == sub.id, Submission.state == "submitted", Submission.revision == revision)
        .values(state=decision, revision=Submission.revision + 1, decided_at=now, updated_at=now)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise AlreadyDecided("This submission was already decided, withdrawn or changed since you opened it; "
                             "nothing was recorded. Reload the queue.")
    session.refresh(sub)
    attempt = sub.attempts[-1]
    attempt.decision, attempt.decided_at, attempt.assessor_id = decision, now, assessor.id
    attempt.seconds_to_decision = seconds_between(now, attempt.submitted_at)
    attempt.feedback = overall.strip()
    attempt.judgements = [Judgement(criterion_id=c.id, level=levels[c.id], feedback=feedback.get(c.id, "").strip())
                          for c in badge.criteria]
    record_event(session, actor=assessor.email, action=f"submission.{decision}", subject=f"submission:{sub.id}",
                 detail={"from": "submitted", "to": decision, "attempt": attempt.number, "levels": levels})
    credential = _issue(session, work, attempt, levels, identity, policy, assessor, now) if decision == "earned" else None
    _notify_teacher(session, work, attempt, credential, identity)
    return credential


def _check_decision(badge: BadgeClass, levels: dict[str, str], feedback: dict[str, str], decision: str) -> None:
    problems: list[tuple[str, str]] = []
    names = [lvl.name for lvl in badge.rubric_levels]
    for crit in badge.criteria:
        if levels.get(crit.id) not in names:
            problems.append((f"level-{crit.id}", f"Choose a level for “{crit.name}”."))
        elif decision == "not_yet" and levels[crit.id] != badge.passing_level and not feedback.get(crit.id, "").strip():
            problems.append((f"feedback-{crit.id}", f"Give feedback on “{crit.name}” so the teacher knows what to "
                                                    "revise."))
    if decision not in DECISIONS:
        problems.append(("decision", "Choose Earned or Not yet."))
    elif not problems:
        passes = badge.passes(levels)
        if decision == "earned" and not passes:
            problems.append(("decision", f"Earned needs every criterion at “{badge.passing_level}”; "
                                         "choose Not yet, or change the levels."))
        if decision == "not_yet" and passes:
            problems.append(("decision", f"Every criterion is at “{badge.passing_level}”, so the work is earned; "
                                         "choose Earned, or change a level."))
    if problems:
        raise DecisionInvalid(problems)


def _issue(session: Session, work: Work, attempt: Attempt, levels: dict[str, str], identity: IssuerIdentity,
           policy: PdpPolicy, assessor: User, now: datetime) -> Credential:
    teacher = session.get(User, work.submission.user_id)
    now = now.replace(microsecond=0)  # as issue_credential stores it, so validUntil is exactly N months later
    return issue_credential(
        session, work.badge, identity=identity, policy=policy, recipient_email=teacher.email,
        recipient_name=teacher.display_name, actor=assessor.email, now=now,
        evidence=evidence_entries(work.badge, attempt.content),
        results=results(work.badge, levels, base_url=identity.settings.public_url),
        submission_id=work.submission.id, recipient_user_id=teacher.id,
        valid_until=valid_until_for(work.badge, now),
        # A renewal: the credential it supersedes (which stays as it is and expires on its own).
        replaces=current_credential(session, user_id=teacher.id, slug=work.badge.slug),
    )


def _notify_teacher(session: Session, work: Work, attempt: Attempt, credential: Credential | None,
                    identity: IssuerIdentity) -> None:
    teacher = session.get(User, work.submission.user_id)
    base = identity.settings.public_url
    if credential is not None:
        subject = f"You earned “{work.badge.title}”"
        body = f"Congratulations! Your credential: {base}/credentials/{credential.public_id}"
    else:
        subject = f"Feedback on “{work.badge.title}”: not yet earned"
        body = f"An assessor returned your submission with feedback. Revise and resubmit: {base}/my/submissions/{work.submission.id}"
    # The feedback survey is offered with every decision (optional; the programme learns from it).
    body += (f"\n\nTwo minutes to tell us how it went (optional): {base}/my/surveys/attempts/{attempt.id}")
    queue_mail(session, to=teacher.email, subject=subject, body=body, kind="decision")


def attempt_feedback(attempt: Attempt) -> dict[str, Any]:
    """The judgement of an attempt by criterion id, for the teacher's and assessor's pages."""
    return {j.criterion_id: {"level": j.level, "feedback": j.feedback} for j in attempt.judgements}

