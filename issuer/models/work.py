"""A teacher's work toward a micro-credential: the submission, its files, attempts and judgements."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.engine import ExecutionContext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow

# draft -> submitted -> earned | not_yet;  not_yet -> (revise) draft -> submitted;  any open -> withdrawn
STATES = ("draft", "submitted", "not_yet", "earned", "withdrawn")
OPEN_STATES = ("draft", "submitted", "not_yet")


def as_utc(moment: datetime) -> datetime:
    """An instant as an aware UTC datetime (SQLite hands back naive UTC ones)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def year_of(moment: datetime) -> str:
    """The programme year (1 July to 30 June, UTC) an instant falls in: '2026-27'."""
    day = as_utc(moment).date()
    start = day.year if day.month >= 7 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def seconds_between(later: datetime, earlier: datetime) -> int:
    """`later - earlier` in whole seconds."""
    return round((as_utc(later) - as_utc(earlier)).total_seconds())


def _year_started(context: ExecutionContext) -> str:
    return year_of(context.get_current_parameters()["started_at"])


class Submission(Base):
    """One teacher working toward one badge class version, across all attempts.

    `revision` goes up on every change; forms carry it, so a stale form is refused, and the
    decision is a compare-and-set on it, so two approvals cannot both succeed.
    """

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    badge_class_id: Mapped[int] = mapped_column(ForeignKey("badge_classes.id"), index=True)
    badge_version: Mapped[int] = mapped_column(Integer)  # the version started: what is judged and issued
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    revision: Mapped[int] = mapped_column(default=1)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)  # {part_id: {"answers": [...], "links": [...]}}
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(index=True)
    decided_at: Mapped[datetime | None] = mapped_column()
    # The programme year the work was started in, where all its figures count (docs/programme-data.md);
    # derived from started_at on insert. Nullable only so that migration 0007 can add it to old rows.
    year: Mapped[str | None] = mapped_column(String(9), default=_year_started)

    files: Mapped[list[SubmissionFile]] = relationship(order_by="SubmissionFile.id", cascade="all, delete-orphan")
    attempts: Mapped[list[Attempt]] = relationship(order_by="Attempt.number", back_populates="submission")


class SubmissionFile(Base):
    """An uploaded file in a part's artifact slot; the bytes live in the content-addressed store."""

    __tablename__ = "submission_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    part_id: Mapped[str] = mapped_column(String(80))
    artifact_index: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    media_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(255))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)


class Attempt(Base):
    """A submission as it was sent for review (a snapshot), and the decision on it."""

    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("submission_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict] = mapped_column(JSON)  # answers and file list as submitted
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decision: Mapped[str | None] = mapped_column(String(20))  # earned | not_yet | withdrawn
    decided_at: Mapped[datetime | None] = mapped_column()
    assessor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    feedback: Mapped[str | None] = mapped_column(Text)  # overall feedback to the teacher
    # Programme facts, so that the dashboards aggregate attempts without joining their submissions
    # (docs/programme-data.md, "Speed"): copies of the submission's year, district and badge class
    # (none of which ever changes), the seconds from the start of the work to this submission, and
    # from this submission to its decision. Written by submissions.submit and reviews.decide.
    work_year: Mapped[str | None] = mapped_column(String(9))
    district_id: Mapped[int | None] = mapped_column(Integer)
    badge_class_id: Mapped[int | None] = mapped_column(Integer)
    seconds_from_start: Mapped[int | None] = mapped_column(Integer)
    seconds_to_decision: Mapped[int | None] = mapped_column(Integer)

    submission: Mapped[Submission] = relationship(back_populates="attempts")
    judgements: Mapped[list[Judgement]] = relationship(order_by="Judgement.id", cascade="all, delete-orphan")


def work_facts(sub: Submission, submitted_at: datetime) -> dict[str, Any]:
    """The programme facts of a new attempt of `sub` sent at `submitted_at` (see Attempt)."""
    return {"work_year": sub.year or year_of(sub.started_at), "district_id": sub.district_id,
            "badge_class_id": sub.badge_class_id, "seconds_from_start": seconds_between(submitted_at, sub.started_at)}


class Judgement(Base):
    """An assessor's level and feedback on one criterion of one attempt."""

    __tablename__ = "judgements"
    __table_args__ = (UniqueConstraint("attempt_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id"), index=True)
    criterion_id: Mapped[str] = mapped_column(String(80))
    level: Mapped[str] = mapped_column(String(60))
    feedback: Mapped[str] = mapped_column(Text, default="")
