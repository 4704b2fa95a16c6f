"""Programme data the department studies: teachers' feedback surveys.

One per decided attempt, one per teacher at the end of each programme year.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow
from .people import Enrolment
from .work import Attempt, Submission

SURVEY_KINDS = ("attempt", "year")  # after a decision on an attempt | at the end of a programme year
WORKED_WITH = ("alone", "mentor", "colleagues")


class SurveyResponse(Base):
    """A teacher's answers to a feedback survey; every answer is optional (None: not answered).

    `attempt_id` is unique (one survey per attempt) and `end_of_year` (the year, set only for the
    end-of-year survey) is unique per teacher; NULLs never collide, on SQLite and PostgreSQL alike.
    `badge_class_id` and `district_id` are copied from the submission so dashboards group without joins.
    """

    __tablename__ = "survey_responses"
    __table_args__ = (
        UniqueConstraint("attempt_id"),
        UniqueConstraint("user_id", "end_of_year"),
        # Covers the dashboards' survey tables (every answer the averages read is in the index).
        Index("ix_survey_responses_programme", "year", "kind", "badge_class_id", "quality", "rigour", "relevance",
              "resources", "hours", "worked_with"),
        Index("ix_survey_responses_district", "district_id", "year", "kind", "badge_class_id"),  # a district's few
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    year: Mapped[str] = mapped_column(String(9), index=True)  # the programme year it belongs to
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id"))
    end_of_year: Mapped[str | None] = mapped_column(String(9))
    badge_class_id: Mapped[int | None] = mapped_column(ForeignKey("badge_classes.id"))
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"))
    quality: Mapped[int | None] = mapped_column(SmallInteger)  # 1-5
    rigour: Mapped[int | None] = mapped_column(SmallInteger)
    relevance: Mapped[int | None] = mapped_column(SmallInteger)
    resources: Mapped[int | None] = mapped_column(SmallInteger)  # helpfulness of the resources
    hours: Mapped[float | None] = mapped_column(Float)
    worked_with: Mapped[str | None] = mapped_column(String(12))  # alone | mentor | colleagues
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)  # bumped on every edit; stale forms are refused


# Indexes the dashboards read (issuer/programme/dashboards.py). Declared here, beside the programme data,
# so the workflow's own models stay as they are. Each covers its query, so SQLite reads the index
# alone, and those of the year's figures lead with the year and the grouping columns, so the rows
# come out already grouped (no sort). Migration 0007 creates them.
Index("ix_submissions_programme", Submission.year, Submission.district_id, Submission.badge_class_id,
      Submission.state)
Index("ix_submissions_started", Submission.started_at)  # starts per month
Index("ix_submissions_user_activity", Submission.user_id, Submission.updated_at)
Index("ix_attempts_programme", Attempt.work_year, Attempt.district_id, Attempt.badge_class_id, Attempt.number,
      Attempt.decision, Attempt.seconds_from_start, Attempt.seconds_to_decision)
# Decisions per month and per assessor: the assessor-first one lets SQLite skip-scan per assessor
# (no sort) once ANALYZE has run; without statistics it reads the first one and sorts.
Index("ix_attempts_decided", Attempt.decided_at, Attempt.decision, Attempt.assessor_id, Attempt.seconds_to_decision)
Index("ix_attempts_assessor", Attempt.assessor_id, Attempt.decided_at, Attempt.decision, Attempt.seconds_to_decision)
Index("ix_attempts_submitted", Attempt.submitted_at)  # submissions per month
Index("ix_attempts_district", Attempt.district_id, Attempt.submitted_at, Attempt.decided_at, Attempt.decision)  # its months
Index("ix_enrolments_programme", Enrolment.year, Enrolment.district_id, Enrolment.pathway, Enrolment.user_id,
      Enrolment.created_at)
