"""A teacher's work toward a micro-credential: start, save drafts, upload, submit, withdraw.

Every change checks the revision the form was loaded with (a stale form is refused, nothing is
lost) and bumps it. Services take the session, the acting user and explicit values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from badge_classes import PATHWAYS, BadgeClass, Part

from ..audit import record_event
from ..catalog.versions import badge_version, current_badge, get_record
from ..credentials.expiry import current_credential, renewal_refusal
from ..errors import Conflict, Forbidden, InvalidInput, UnknownAchievementError
from ..mail import queue_mail
from ..models import OPEN_STATES, Attempt, BadgeClassRecord, Credential, Enrolment, Submission, SubmissionFile, User
from ..models.work import seconds_between, work_facts
from ..people.districts import programme_year
from .eligibility import may_review
from .uploads import store_upload

EDITABLE = ("draft", "not_yet")
MAX_ANSWER_CHARS = 20_000
MAX_LINKS = 10
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)


class SubmissionError(InvalidInput):
    """Base of what the work services refuse; raised itself for an answer, link or part that cannot be used."""

    code = "submission_invalid"


class StaleForm(Conflict, SubmissionError):
    code = "stale_form"


class LimitReached(Conflict, SubmissionError):
    code = "in_progress_limit"


class Incomplete(SubmissionError):
    """Submit refused: `missing` lists what still has to be filled in, part by part."""

    code = "submission_incomplete"

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__("Not submitted yet: " + "; ".join(missing))


@dataclass(frozen=True)
class Work:
    """A submission with the badge class version it is judged against."""

    submission: Submission
    badge: BadgeClass


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def current_enrolment(session: Session, user: User, today: datetime) -> Enrolment | None:
    return session.scalar(select(Enrolment).where(Enrolment.user_id == user.id,
                                                  Enrolment.year == programme_year(today.date())))


def start(session: Session, *, teacher: User, slug: str, limit: int, now: datetime | None = None) -> Work:
    """Start a micro-credential at its current version (the one it will be judged and issued under).

    A class already earned can be started again only to renew a credential that expires within
    expiry.RENEWAL_WINDOW (or has expired).
    """
    now = now or now_utc()
    if not teacher.has_role("teacher"):
        raise Forbidden("Only teachers start micro-credentials.")
    badge = current_badge(session, slug)
    if badge.status != "active":
        raise SubmissionError(f"“{badge.title}” is retired: it can no longer be started.")
    enrolment = current_enrolment(session, teacher, now)
    if enrolment is None:
        raise SubmissionError("You are not enrolled in the programme this year; your district coordinator "
                              "enrols teachers.")
    if enrolment.pathway != badge.pathway:
        raise SubmissionError(f"“{badge.title}” belongs to the {badge.pathway_name} pathway; you are enrolled in "
                              f"the {PATHWAYS.get(enrolment.pathway, enrolment.pathway)} pathway.")
    record = get_record(session, slug)
    renews = _renewal(session, teacher, record, badge, now)
    open_count = session.scalar(select(func.count()).select_from(Submission).where(
        Submission.user_id == teacher.id, Submission.state.in_(OPEN_STATES)))
    if open_count >= limit:
        raise LimitReached(f"You already have {open_count} micro-credential(s) in progress, the most allowed at "
                           "once. Finish or withdraw one before starting another.")
    submission = Submission(user_id=teacher.id, badge_class_id=record.id, badge_version=badge.version,
                            district_id=enrolment.district_id, state="draft", revision=1, answers={},
                            started_at=now, updated_at=now)
    session.add(submission)
    session.flush()
    _audit(session, teacher, submission, "submission.started", None, "draft", version=badge.version,
           **({"renews": renews.credential_id} if renews is not None else {}))
    return Work(submission, badge)


def _renewal(session: Session, teacher: User, record: BadgeClassRecord, badge: BadgeClass,
             now: datetime) -> Credential | None:
    """Refuse a class the teacher is working on, or earned and cannot renew yet (its credential does
    not expire, or not within the renewal window). Returns the credential a renewal would replace."""
    mine = session.scalars(select(Submission.state).where(Submission.user_id == teacher.id,
                                                          Submission.badge_class_id == record.id,
                                                          Submission.state != "withdrawn")).all()
    if any(state in OPEN_STATES for state in mine):
        raise SubmissionError(f"You have already started “{badge.title}”.")
    if not mine:
        return None
    earned = current_credential(session, user_id=teacher.id, slug=record.slug)
    refusal = renewal_refusal(earned, title=badge.title, now=now)
    if refusal:
        raise SubmissionError(refusal)
    return earned


def load(session: Session, submission_id: int) -> Work:
    """A submission and its badge class version; UnknownAchievementError (404) if there is none."""
    submission = session.get(Submission, submission_id)
    if submission is None:
        raise UnknownAchievementError("There is no such submission.")
    record = session.get(BadgeClassRecord, submission.badge_class_id)
    return Work(submission, badge_version(session, record.slug, submission.badge_version))


def load_own(session: Session, submission_id: int, teacher: User) -> Work:
    """The teacher's own submission; someone else's answers 404 (its existence is not revealed)."""
    work = load(session, submission_id)
    if work.submission.user_id != teacher.id:
        raise UnknownAchievementError("There is no such submission.")
    return work


def save_part(session: Session, work: Work, *, teacher: User, part_id: str, answers: list[str],
              links: list[str], revision: int, now: datetime | None = None) -> None:
    """Save a part's written answers and links as a draft (limits checked at submit)."""
    sub = _editable(work, teacher, revision)
    part = _part(work.badge, part_id)
    if len(answers) != len(part.questions):
        raise SubmissionError(f"{part.title}: expected {len(part.questions)} answer(s).")
    cleaned = [a.replace("\r\n", "\n").strip() for a in answers]
    for i, text in enumerate(cleaned, start=1):
        if len(text) > MAX_ANSWER_CHARS:
            raise SubmissionError(f"{part.title}, question {i}: at most {MAX_ANSWER_CHARS:,} characters.")
    kept_links = [link.strip() for link in links if link.strip()]
    if len(kept_links) > MAX_LINKS:
        raise SubmissionError(f"{part.title}: at most {MAX_LINKS} links.")
    for link in kept_links:
        if not _URL.match(link) or len(link) > 2000:
            raise SubmissionError(f"{part.title}: {link[:80]!r} is not a web address (http:// or https://).")
    sub.answers = {**(sub.answers or {}), part_id: {"answers": cleaned, "links": kept_links}}
    _touch(sub, now)


def add_file(session: Session, work: Work, *, teacher: User, part_id: str, artifact_index: int, stream: BinaryIO,
             filename: str, revision: int, max_bytes: int, uploads_dir: Path, now: datetime | None = None) -> SubmissionFile:
    """Store an uploaded file in an artifact slot, checked against that artifact's rules."""
    sub = _editable(work, teacher, revision)
    part = _part(work.badge, part_id)
    if not 0 <= artifact_index < len(part.artifacts):
        raise SubmissionError(f"{part.title} has no artifact {artifact_index + 1}.")
    artifact = part.artifacts[artifact_index]
    present = [f for f in sub.files if f.part_id == part_id and f.artifact_index == artifact_index]
    if len(present) >= artifact.max_files:
        raise SubmissionError(f"{artifact.name}: at most {artifact.max_files} file(s); remove one first.")
    stored = store_upload(stream, filename=filename, allowed=artifact.file_types, max_bytes=max_bytes,
                          uploads_dir=uploads_dir)
    row = SubmissionFile(submission_id=sub.id, part_id=part_id, artifact_index=artifact_index, sha256=stored.sha256,
                         size=stored.size, media_type=stored.media_type, filename=stored.filename)
    sub.files.append(row)
    _touch(sub, now)
    session.flush()
    return row


def remove_file(session: Session, work: Work, *, teacher: User, file_id: int, revision: int,
                now: datetime | None = None) -> None:
    sub = _editable(work, teacher, revision)
    row = next((f for f in sub.files if f.id == file_id), None)
    if row is None:
        raise SubmissionError("That file is not part of this submission.")
    sub.files.remove(row)
    _touch(sub, now)


def missing(work: Work) -> list[str]:
    """What still has to be done before the work can be submitted, in the teacher's words."""
    out = []
    answers = work.submission.answers or {}
    for part in work.badge.parts:
        saved = answers.get(part.id, {}).get("answers", [])
        for i, _question in enumerate(part.questions):
            if i >= len(saved) or not saved[i].strip():
                out.append(f"{part.title}: answer question {i + 1}")
        if part.word_limit and saved:
            words = sum(len(a.split()) for a in saved)
            if words > part.word_limit:
                out.append(f"{part.title}: {words} words, more than the limit of {part.word_limit}")
        for j, art in enumerate(part.artifacts):
            have = sum(1 for f in work.submission.files if f.part_id == part.id and f.artifact_index == j)
            if have < art.min_files:
                out.append(f"{part.title}: upload {art.min_files - have} more file(s) for “{art.name}”")
    return out


def submit(session: Session, work: Work, *, teacher: User, revision: int, own_district_allowed: bool = True,
           now: datetime | None = None) -> Attempt:
    """Send the work for review: a snapshot becomes the next attempt. Incomplete work is refused."""
    now = now or now_utc()
    sub = _editable(work, teacher, revision)
    gaps = missing(work)
    if gaps:
        raise Incomplete(gaps)
    before = sub.state
    attempt = Attempt(submission_id=sub.id, number=len(sub.attempts) + 1, content=snapshot(sub), submitted_at=now,
                      **work_facts(sub, now))
    sub.attempts.append(attempt)
    sub.state, sub.submitted_at = "submitted", now
    _touch(sub, now)
    session.flush()
    _audit(session, teacher, sub, "submission.submitted", before, "submitted", attempt=attempt.number)
    _notify_assessors(session, work, own_district_allowed)
    return attempt


def withdraw(session: Session, work: Work, *, teacher: User, revision: int, now: datetime | None = None) -> None:
    """Withdraw open work (it no longer counts toward the in-progress limit)."""
    now = now or now_utc()
    sub = work.submission
    if sub.user_id != teacher.id:
        raise UnknownAchievementError("There is no such submission.")
    if sub.state not in OPEN_STATES:
        raise SubmissionError(f"This submission is {sub.state.replace('_', ' ')} and cannot be withdrawn.")
    _check_revision(sub, revision)
    before = sub.state
    if sub.state == "submitted" and sub.attempts:
        last = sub.attempts[-1]
        last.decision, last.decided_at, last.seconds_to_decision = "withdrawn", now, seconds_between(now, last.submitted_at)
    sub.state = "withdrawn"
    _touch(sub, now)
    _audit(session, teacher, sub, "submission.withdrawn", before, "withdrawn")


def snapshot(sub: Submission) -> dict[str, Any]:
    return {"answers": dict(sub.answers or {}),
            "files": [{"id": f.id, "part_id": f.part_id, "artifact_index": f.artifact_index, "sha256": f.sha256,
                       "size": f.size, "media_type": f.media_type, "filename": f.filename} for f in sub.files]}


def _editable(work: Work, teacher: User, revision: int) -> Submission:
    sub = work.submission
    if sub.user_id != teacher.id:
        raise UnknownAchievementError("There is no such submission.")
    if sub.state not in EDITABLE:
        what = {"submitted": "is with an assessor", "earned": "was earned", "withdrawn": "was withdrawn"}[sub.state]
        raise SubmissionError(f"This submission {what}; it cannot be changed now.")
    _check_revision(sub, revision)
    return sub


def _check_revision(sub: Submission, revision: int) -> None:
    if revision != sub.revision:
        raise StaleForm("This submission changed since you opened the page (in another tab or window), so "
                        "your entry was not saved yet. It is kept below: check it against the saved version "
                        "and save again.")


def _touch(sub: Submission, now: datetime | None) -> None:
    sub.revision += 1
    sub.updated_at = now or now_utc()


def _part(badge: BadgeClass, part_id: str) -> Part:
    for part in badge.parts:
        if part.id == part_id:
            return part
    raise SubmissionError(f"{badge.title} has no part {part_id!r}.")


def _audit(session: Session, actor: User, sub: Submission, action: str, before: str | None, after: str,
           **detail: Any) -> None:
    record_event(session, actor=actor.email, action=action, subject=f"submission:{sub.id}",
                 detail={"from": before, "to": after, **detail})


def _notify_assessors(session: Session, work: Work, own_district_allowed: bool) -> None:
    """Tell the assessors who may judge this work (not its author; not its district if so configured)."""
    assessors = session.scalars(select(User).where(User.active.is_(True))).all()
    for assessor in (a for a in assessors
                     if may_review(a, work.submission, own_district_allowed=own_district_allowed) is None):
        queue_mail(session, to=assessor.email, kind="new_submission",
                   subject=f"New submission to review: {work.badge.title}",
                   body=f"A submission for “{work.badge.title}” is waiting in the review queue.")
