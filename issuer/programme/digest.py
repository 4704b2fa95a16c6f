"""The coordinator's digest: what happened in their district's micro-credential work lately."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..mail import queue_mail
from ..models import Attempt, District, Enrolment, Submission, User
from ..people.districts import programme_year


@dataclass(frozen=True)
class DistrictActivity:
    started: int
    submitted: int
    earned: int
    not_yet: int
    in_progress: int
    waiting_for_review: int
    enrolled: int
    enrolled_not_started: int


def district_activity(session: Session, district_id: int, *, since: datetime, now: datetime) -> DistrictActivity:
    """Counts for one district: work started, submitted and decided since `since`, and where things stand."""
    in_district = Submission.district_id == district_id

    def count(*where) -> int:
        return session.scalar(select(func.count()).select_from(Submission).where(in_district, *where)) or 0

    def decided(decision: str) -> int:
        return session.scalar(select(func.count()).select_from(Attempt).join(Submission).where(
            in_district, Attempt.decision == decision, Attempt.decided_at >= since)) or 0

    submitted = session.scalar(select(func.count()).select_from(Attempt).join(Submission).where(
        in_district, Attempt.submitted_at >= since)) or 0
    year = programme_year(now.date())
    enrolled = select(Enrolment.user_id).where(Enrolment.district_id == district_id, Enrolment.year == year)
    starters = select(Submission.user_id).where(in_district)
    return DistrictActivity(
        started=count(Submission.started_at >= since), submitted=submitted, earned=decided("earned"),
        not_yet=decided("not_yet"), in_progress=count(Submission.state.in_(("draft", "not_yet"))),
        waiting_for_review=count(Submission.state == "submitted"),
        enrolled=session.scalar(select(func.count()).select_from(enrolled.subquery())) or 0,
        enrolled_not_started=session.scalar(select(func.count()).select_from(
            enrolled.where(Enrolment.user_id.not_in(starters)).subquery())) or 0,
    )


def queue_coordinator_digests(session: Session, *, days: int, now: datetime, public_url: str) -> int:
    """One digest mail per active coordinator with a district; returns how many were queued."""
    since = now - timedelta(days=days)
    coordinators = [u for u in session.scalars(select(User).where(User.active.is_(True), User.district_id.is_not(None)))
                    if u.has_role("coordinator")]
    for person in coordinators:
        district = session.get(District, person.district_id)
        a = district_activity(session, district.id, since=since, now=now)
        body = "\n".join([
            f"{district.name}: micro-credential activity in the last {days} day(s).", "",
            f"Started: {a.started}", f"Submitted for review: {a.submitted}", f"Earned: {a.earned}",
            f"Returned not yet earned: {a.not_yet}", "",
            f"Now in progress: {a.in_progress}; waiting for an assessor: {a.waiting_for_review}.",
            f"Teachers enrolled this year: {a.enrolled}; not started any micro-credential yet: {a.enrolled_not_started}.",
            "", f"Your district's page: {public_url}/people/districts/{district.id}",
        ])
        queue_mail(session, to=person.email, kind="coordinator_digest",
                   subject=f"{district.name}: micro-credentials this week" if days == 7 else
                   f"{district.name}: micro-credentials, last {days} days", body=body)
    return len(coordinators)
