"""Programme figures for dashboards, counted and summed in the database (GROUP BY).

On SQLite and PostgreSQL alike. docs/programme-data.md defines every measure.

The work of a programme year is the work *started* in it (1 July to 30 June): a submission and
all its attempts count in the year it was started. Monthly activity and assessor workload count
events (a start, a submission, a decision) in the month or year they happened.

The year's figures read programme facts kept on the rows (models/work.py): the submission's `year`,
and on each attempt copies of its submission's year, district and badge class with its durations
in whole seconds, so attempts aggregate without a join and without date arithmetic per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select
from sqlalchemy.orm import Session, aliased

from ..catalog.versions import badge_from_version
from ..models import Attempt, BadgeClassRecord, BadgeClassVersion, District, Enrolment, Submission, User
from ..people.districts import CAPS, programme_year

DECIDED = ("earned", "not_yet")
DAY = 86400.0  # seconds


def year_window(year: str) -> tuple[datetime, datetime]:
    """The instants a programme year spans: [1 July, next 1 July), in UTC."""
    start = int(year[:4])
    return datetime(start, 7, 1, tzinfo=UTC), datetime(start + 1, 7, 1, tzinfo=UTC)


# --- portable SQL: durations in days, months as 'YYYY-MM' ----------------------------------------


def days_between(session: Session, later: Any, earlier: Any) -> ColumnElement[float]:
    """`later - earlier` in days (fractional), in the dialect's own arithmetic."""
    if session.get_bind().dialect.name == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return func.extract("epoch", later - earlier) / 86400.0


def month_of(session: Session, moment: Any) -> ColumnElement[str]:
    """The UTC month of an instant as 'YYYY-MM'."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m", moment)  # SQLite stores UTC text; strftime reads it as is
    return func.to_char(func.timezone("UTC", moment), "YYYY-MM")


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


# --- the figures ---------------------------------------------------------------------------------


@dataclass
class Figures:
    """Counts and summed durations of one group of work; additive, so groups roll up exactly."""

    started: int = 0
    submitted: int = 0  # sent for review at least once
    in_review: int = 0  # waiting for an assessor now
    earned: int = 0
    not_yet: int = 0  # returned "not yet" and not resubmitted (yet)
    withdrawn: int = 0
    days_to_submit: float = 0.0  # summed over `submitted`: start -> first submission
    decisions: int = 0  # attempts decided (earned or not yet)
    decisions_earned: int = 0
    first_decisions: int = 0
    first_earned: int = 0
    days_to_decision: float = 0.0  # summed over `decisions`: submission of the attempt -> decision

    def add(self, other: Figures) -> None:
        """Add another group's figures to these (spelt out: roll-ups call it thousands of times)."""
        self.started += other.started
        self.submitted += other.submitted
        self.in_review += other.in_review
        self.earned += other.earned
        self.not_yet += other.not_yet
        self.withdrawn += other.withdrawn
        self.days_to_submit += other.days_to_submit
        self.decisions += other.decisions
        self.decisions_earned += other.decisions_earned
        self.first_decisions += other.first_decisions
        self.first_earned += other.first_earned
        self.days_to_decision += other.days_to_decision

    @property
    def mean_days_to_submit(self) -> float | None:
        return self.days_to_submit / self.submitted if self.submitted else None

    @property
    def mean_days_to_decision(self) -> float | None:
        return self.days_to_decision / self.decisions if self.decisions else None

    @property
    def pass_rate(self) -> float | None:
        """Share of decided attempts that were earned."""
        return self.decisions_earned / self.decisions if self.decisions else None

    @property
    def first_pass_rate(self) -> float | None:
        """Share of first attempts earned at once."""
        return self.first_earned / self.first_decisions if self.first_decisions else None

    @property
    def submission_rate(self) -> float | None:
        return self.submitted / self.started if self.started else None


@dataclass(frozen=True)
class BadgeInfo:
    """A badge class as the dashboards name it: its current version's title, pathway and alignments."""

    id: int
    slug: str
    title: str
    pathway: str
    indicators: tuple[tuple[str, str], ...]  # (code, name)


def catalogue(session: Session) -> dict[int, BadgeInfo]:
    """Every badge class (retired ones too: old work still counts), by record id."""
    rows = session.execute(select(BadgeClassRecord, BadgeClassVersion)
                           .join(BadgeClassVersion, and_(BadgeClassVersion.badge_class_id == BadgeClassRecord.id,
                                                         BadgeClassVersion.version == BadgeClassRecord.current_version)))
    out = {}
    for record, version in rows:
        badge = badge_from_version(record, version)
        out[record.id] = BadgeInfo(record.id, record.slug, badge.title, badge.pathway,
                                   tuple((a.code, a.name) for a in badge.alignments))
    return out


def work_figures(session: Session, year: str, *, district_id: int | None = None,
                 by: tuple[str, ...] = ("district_id", "badge_class_id")) -> dict[tuple, Figures]:
    """Figures of the work started in `year`, grouped by columns `by` (district_id, badge_class_id):
    one query over submissions, one over attempts, each reading its covering index (year first, then
    the groups: the rows come out grouped; see models/programme.py)."""
    n = len(by)
    figures: dict[tuple, Figures] = {}
    keys = [getattr(Submission, name) for name in by]
    scope = [Submission.year == year] + ([] if district_id is None else [Submission.district_id == district_id])
    work = (select(*keys, func.count(), count_if(Submission.state == "submitted"), count_if(Submission.state == "earned"),
                   count_if(Submission.state == "not_yet"), count_if(Submission.state == "withdrawn"))
            .where(*scope).group_by(*keys))
    for row in session.execute(work):
        figures[tuple(row[:n])] = Figures(started=row[n], in_review=row[n + 1], earned=row[n + 2], not_yet=row[n + 3],
                                          withdrawn=row[n + 4])
    keys = [getattr(Attempt, name) for name in by]
    scope = [Attempt.work_year == year] + ([] if district_id is None else [Attempt.district_id == district_id])
    first, earned = Attempt.number == 1, Attempt.decision == "earned"
    decided = Attempt.decision.in_(DECIDED)
    attempts = (select(*keys, count_if(first), func.sum(case((first, Attempt.seconds_from_start))), count_if(decided),
                       count_if(earned), count_if(and_(first, decided)), count_if(and_(first, earned)),
                       func.sum(case((decided, Attempt.seconds_to_decision))))
                .where(*scope).group_by(*keys))
    for row in session.execute(attempts):
        f = figures.setdefault(tuple(row[:n]), Figures())
        f.submitted, f.days_to_submit = row[n], float(row[n + 1] or 0) / DAY
        f.decisions, f.decisions_earned, f.first_decisions, f.first_earned = row[n + 2:n + 6]
        f.days_to_decision = float(row[n + 6] or 0) / DAY
    return figures


def roll_up(figures: dict[tuple, Figures], key: Any) -> dict[Any, Figures]:
    """Groups merged under `key(group)`; a key returning a list counts the group under each item."""
    out: dict[Any, Figures] = {}
    for group, f in figures.items():
        targets = key(group)
        for target in targets if isinstance(targets, list) else [targets]:
            out.setdefault(target, Figures()).add(f)
    return out


def total(figures: dict[tuple, Figures]) -> Figures:
    result = Figures()
    for f in figures.values():
        result.add(f)
    return result


# --- medians (window functions: SQLite 3.25+ and PostgreSQL) ------------------------------------


def _median(session: Session, values: Select, n: int) -> float | None:
    """The median of the `n` non-null numbers a one-column select yields: the middle one or two,
    read with ORDER BY / LIMIT / OFFSET in the database (portable: SQLite has no percentile function)."""
    if not n:
        return None
    value = values.subquery().c[0]
    middle = session.scalars(select(value).where(value.is_not(None)).order_by(value)
                             .limit(2 - n % 2).offset((n - 1) // 2)).all()
    return float(sum(middle)) / len(middle) if middle else None


def median_days(session: Session, year: str, figures: Figures, *,
                district_id: int | None = None) -> tuple[float | None, float | None]:
    """Median days from start to first submission, and from an attempt's submission to its decision;
    `figures` (the same scope's totals) say how many values each has."""
    scope = [Attempt.work_year == year] + ([] if district_id is None else [Attempt.district_id == district_id])
    to_submit = select(Attempt.seconds_from_start).where(*scope, Attempt.number == 1)
    to_decide = select(Attempt.seconds_to_decision).where(*scope, Attempt.decision.in_(DECIDED))
    medians = _median(session, to_submit, figures.submitted), _median(session, to_decide, figures.decisions)
    return tuple(None if m is None else m / DAY for m in medians)  # type: ignore[return-value]


# --- monthly activity ----------------------------------------------------------------------------


@dataclass
class Month:
    started: int = 0
    submitted: int = 0  # attempts sent (first submissions and resubmissions)
    earned: int = 0
    not_yet: int = 0


def _month_starts(year: str) -> list[datetime]:
    """The first instants of the year's twelve months and of the next year."""
    first = int(year[:4])
    return [datetime(first + (m > 12), (m - 1) % 12 + 1, 1, tzinfo=UTC) for m in range(7, 20)]


def monthly(session: Session, year: str, *, district_id: int | None = None) -> dict[str, Month]:
    """Starts, submissions and decisions in each month of the year (every month listed, zeros too)."""
    if district_id is None:
        return _monthly_counts(session, year)
    start, end = year_window(year)
    months = {f"{(start.year if m >= 7 else end.year):04d}-{m:02d}": Month() for m in (*range(7, 13), *range(1, 7))}
    # A district's few hundred rows: read through indexes that lead with the district, month computed per row.
    started = month_of(session, Submission.started_at)
    for key, n in session.execute(select(started, func.count()).where(
            Submission.district_id == district_id, Submission.started_at >= start, Submission.started_at < end)
            .group_by(started)):
        months[key].started = n
    mine = Attempt.district_id == district_id  # the submission's district, copied (no join)
    sent = month_of(session, Attempt.submitted_at)
    for key, n in session.execute(select(sent, func.count())
                                  .where(mine, Attempt.submitted_at >= start, Attempt.submitted_at < end)
                                  .group_by(sent)):
        months[key].submitted = n
    decided = month_of(session, Attempt.decided_at)
    for key, earned, not_yet in session.execute(
            select(decided, count_if(Attempt.decision == "earned"), count_if(Attempt.decision == "not_yet"))
            .where(mine, Attempt.decided_at >= start, Attempt.decided_at < end, Attempt.decision.in_(DECIDED))
            .group_by(decided)):
        months[key].earned, months[key].not_yet = earned, not_yet
    return months


def _monthly_counts(session: Session, year: str) -> dict[str, Month]:
    """Every district's events per month: one statement of range counts, each over an index on
    the event's instant (no month computed per row, no sort)."""
    bounds = _month_starts(year)

    def count(*where: ColumnElement[bool]) -> Any:
        return select(func.count()).where(*where).scalar_subquery()

    cells = []
    for a, b in pairwise(bounds):
        cells += [count(Submission.started_at >= a, Submission.started_at < b),
                  count(Attempt.submitted_at >= a, Attempt.submitted_at < b),
                  count(Attempt.decided_at >= a, Attempt.decided_at < b, Attempt.decision == "earned"),
                  count(Attempt.decided_at >= a, Attempt.decided_at < b, Attempt.decision == "not_yet")]
    row = session.execute(select(*cells)).one()
    return {f"{a:%Y-%m}": Month(*row[4 * i:4 * i + 4]) for i, a in enumerate(bounds[:-1])}


# --- teachers ------------------------------------------------------------------------------------


def teachers_by_pathway_and_cohort(session: Session, year: str, *, district_id: int | None = None) -> dict[tuple[str, str], int]:
    """Teachers enrolled in `year` by (pathway, cohort); the cohort is the year a teacher first enrolled."""
    first = aliased(Enrolment)
    cohort = (select(func.min(first.year)).where(first.user_id == Enrolment.user_id)  # reads the (user, year) key
              .correlate(Enrolment).scalar_subquery().label("cohort"))
    query = select(Enrolment.pathway, cohort, func.count()).where(Enrolment.year == year).group_by(Enrolment.pathway,
                                                                                                   cohort)
    if district_id is not None:
        query = query.where(Enrolment.district_id == district_id)
    return {(pathway, c): n for pathway, c, n in session.execute(query)}


def enrolment_by_district(session: Session, year: str) -> dict[int, dict[str, int]]:
    """Teachers enrolled per district and pathway in `year` (zeros filled in)."""
    out: dict[int, dict[str, int]] = {}
    for district_id, pathway, n in session.execute(select(Enrolment.district_id, Enrolment.pathway, func.count())
                                                   .where(Enrolment.year == year)
                                                   .group_by(Enrolment.district_id, Enrolment.pathway)):
        out.setdefault(district_id, dict.fromkeys(CAPS, 0))[pathway] = n
    return out


def _last_activity(session: Session, year: str) -> Select:
    """Per teacher enrolled in `year`: district, pathway, and their last activity (their last change
    to any work, else their enrolment). A correlated MAX per teacher reads ix_submissions_user_activity."""
    last = (select(func.max(Submission.updated_at)).where(Submission.user_id == Enrolment.user_id)
            .correlate(Enrolment).scalar_subquery())
    return (select(Enrolment.user_id, Enrolment.district_id, Enrolment.pathway,
                   func.coalesce(last, Enrolment.created_at).label("last_at"))
            .where(Enrolment.year == year))


def inactive_counts(session: Session, year: str, *, weeks: int, now: datetime) -> dict[int, int]:
    """Enrolled teachers with no activity for `weeks` weeks, per district."""
    activity = _last_activity(session, year).subquery()
    cutoff = now - timedelta(weeks=weeks)
    return dict(session.execute(select(activity.c.district_id, func.count())
                                .where(activity.c.last_at < cutoff).group_by(activity.c.district_id)).all())


@dataclass(frozen=True)
class QuietTeacher:
    user_id: int
    name: str
    email: str
    pathway: str
    last_at: datetime


def inactive_teachers(session: Session, year: str, *, district_id: int, weeks: int, now: datetime) -> list[QuietTeacher]:
    """A district's enrolled teachers with no activity for `weeks` weeks, quietest first."""
    activity = _last_activity(session, year).where(Enrolment.district_id == district_id).subquery()
    rows = session.execute(select(activity.c.user_id, User.display_name, User.email, activity.c.pathway,
                                  activity.c.last_at).join(User, User.id == activity.c.user_id)
                           .where(activity.c.last_at < now - timedelta(weeks=weeks))
                           .order_by(activity.c.last_at, User.display_name))
    return [QuietTeacher(*row) for row in rows]


def district_names(session: Session, ids: Iterable[int] | None = None) -> dict[int, District]:
    query = select(District).order_by(District.name)
    if ids is not None:
        query = query.where(District.id.in_(list(ids)))
    return {d.id: d for d in session.scalars(query)}


@dataclass
class Workload:
    """An assessor's decisions in a year and how long the work waited for them."""

    assessor_id: int
    name: str
    decisions: int
    earned: int
    mean_days: float | None
    extra: dict[str, Any] = field(default_factory=dict)


def assessor_workload(session: Session, year: str) -> list[Workload]:
    """Decisions made in `year` per assessor, busiest first."""
    start, end = year_window(year)
    per = (select(Attempt.assessor_id.label("assessor_id"), func.count().label("n"),
                  count_if(Attempt.decision == "earned").label("earned"),
                  func.avg(Attempt.seconds_to_decision).label("seconds"))
           .where(Attempt.decided_at >= start, Attempt.decided_at < end, Attempt.decision.in_(DECIDED),
                  Attempt.assessor_id.is_not(None))
           .group_by(Attempt.assessor_id).subquery())
    rows = session.execute(select(per.c.assessor_id, User.display_name, per.c.n, per.c.earned, per.c.seconds)
                           .join(User, User.id == per.c.assessor_id).order_by(per.c.n.desc(), User.display_name))
    return [Workload(a, name, n, earned, None if seconds is None else float(seconds) / DAY)
            for a, name, n, earned, seconds in rows]


def review_queue_age(session: Session, *, now: datetime, district_id: int | None = None) -> tuple[int, float | None]:
    """Work waiting for an assessor now: how much, and the oldest wait in days."""
    query = select(func.count(), func.min(Submission.submitted_at)).where(Submission.state == "submitted")
    if district_id is not None:
        query = query.where(Submission.district_id == district_id)
    waiting, oldest = session.execute(query).one()
    if oldest is None:
        return waiting, None
    oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
    return waiting, (now - oldest).total_seconds() / 86400


def years_with_data(session: Session, today: date) -> list[str]:
    """Programme years that have enrolments, newest first (the current one always)."""
    years = set(session.scalars(select(Enrolment.year).distinct())) | {programme_year(today)}
    return sorted(years, reverse=True)

