"""The dashboards' tables: figures shaped as captioned tables for the pages and the CSV downloads.

Figures from issuer.programme.dashboards, which the pages show (beside their charts) and the CSV
downloads write, so both always say the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from badge_classes import PATHWAYS

from ..models import Enrolment, Submission, User
from ..people.districts import CAPS
from . import dashboards as q
from . import survey_results
from .surveys import RATING_LABELS, WORKED_WITH_LABELS

FIGURE_COLUMNS = ("Started", "Submitted", "In review", "Earned", "Not yet", "Withdrawn", "Decisions",
                  "Pass rate (%)", "First-attempt pass rate (%)", "Mean days to first submission",
                  "Mean days to decision")
SURVEY_COLUMNS = ("Responses", *(f"{label} (mean, 1-5)" for label in RATING_LABELS.values()), "Mean hours",
                  *(f"Worked {label.lower()}" for label in WORKED_WITH_LABELS.values()))


@dataclass
class Table:
    """A captioned table; the first `label_columns` cells of a row name it, the rest are figures."""

    id: str
    caption: str
    columns: tuple[str, ...]
    rows: list[list[Any]] = field(default_factory=list)
    label_columns: int = 1
    extra_ids: list[int] = field(default_factory=list)  # e.g. the district id of each row, for links

    def column(self, name: str) -> list[Any]:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def figure_cells(f: q.Figures) -> list[Any]:
    return [f.started, f.submitted, f.in_review, f.earned, f.not_yet, f.withdrawn, f.decisions,
            _pct(f.pass_rate), _pct(f.first_pass_rate), _days(f.mean_days_to_submit), _days(f.mean_days_to_decision)]


def survey_cells(s: survey_results.SurveySummary | None) -> list[Any]:
    if s is None:
        return [0, *([None] * 5), 0, 0, 0]
    return [s.responses, *(None if s.means[n] is None else round(s.means[n], 2) for n in survey_results.RATINGS),
            _days(s.mean_hours), *s.worked_with.values()]


@dataclass
class Report:
    """Everything a dashboard page shows."""

    year: str
    headline: q.Figures
    medians: tuple[float | None, float | None]
    queue: tuple[int, float | None]
    tables: dict[str, Table]
    year_survey: survey_results.SurveySummary
    extra: dict[str, Any] = field(default_factory=dict)


def _by_badge(figures: dict[tuple, q.Figures], badges: dict[int, q.BadgeInfo]) -> Table:
    per = q.roll_up(figures, lambda g: g[-1])
    table = Table("badge-classes", "By micro-credential (badge class)", ("Micro-credential", "Pathway", *FIGURE_COLUMNS),
                  label_columns=2)
    for badge_id, f in sorted(per.items(), key=lambda item: _badge_sort(badges, item[0])):
        badge = badges.get(badge_id)
        table.rows.append([badge.title if badge else f"#{badge_id}", PATHWAYS.get(badge.pathway, "") if badge else "",
                           *figure_cells(f)])
    return table


def _badge_sort(badges: dict[int, q.BadgeInfo], badge_id: int) -> tuple:
    badge = badges.get(badge_id)
    return (badge is None, badge.pathway != "team" if badge else True, badge.title if badge else "")


def _by_pathway(figures: dict[tuple, q.Figures], badges: dict[int, q.BadgeInfo], enrolled: dict[str, int]) -> Table:
    per = q.roll_up(figures, lambda g: badges[g[-1]].pathway if g[-1] in badges else "")
    table = Table("pathways", "By pathway (of the micro-credential)", ("Pathway", "Teachers enrolled", *FIGURE_COLUMNS))
    for pathway, name in PATHWAYS.items():
        table.rows.append([name, enrolled.get(pathway, 0), *figure_cells(per.get(pathway, q.Figures()))])
    return table


def _by_indicator(figures: dict[tuple, q.Figures], badges: dict[int, q.BadgeInfo]) -> Table:
    """Work counted under every indicator its micro-credential aligns to (so columns do not add up)."""
    names = {code: name for b in badges.values() for code, name in b.indicators}
    per = q.roll_up(figures, lambda g: [code for code, _ in badges[g[-1]].indicators] if g[-1] in badges else [])
    table = Table("indicators", "By TEAM indicator or teacher-leader standard (a micro-credential aligned to two "
                  "counts under both)", ("Code", "Indicator", *FIGURE_COLUMNS), label_columns=2)
    for code in sorted(per):
        table.rows.append([code, names.get(code, ""), *figure_cells(per[code])])
    return table


def _months(session: Session, year: str, district_id: int | None) -> Table:
    table = Table("months", "Activity by month (events in the month)", ("Month", "Started", "Submitted", "Earned",
                                                                         "Not yet"))
    for month, m in q.monthly(session, year, district_id=district_id).items():
        table.rows.append([month, m.started, m.submitted, m.earned, m.not_yet])
    return table


def _cohorts(session: Session, year: str, district_id: int | None) -> Table:
    table = Table("cohorts", "Teachers enrolled by pathway and cohort (the year they first enrolled)",
                  ("Pathway", "Cohort", "Teachers"), label_columns=2)
    for (pathway, cohort), n in sorted(q.teachers_by_pathway_and_cohort(session, year, district_id=district_id).items()):
        table.rows.append([PATHWAYS.get(pathway, pathway), cohort, n])
    return table


def _surveys(session: Session, year: str, badges: dict[int, q.BadgeInfo], district_id: int | None) -> Table:
    table = Table("surveys", "Teachers' ratings after each decision, by micro-credential",
                  ("Micro-credential", *SURVEY_COLUMNS))
    per = survey_results.by_badge_class(session, year, district_id=district_id)
    for badge_id in sorted(per, key=lambda b: _badge_sort(badges, b)):
        table.rows.append([badges[badge_id].title if badge_id in badges else f"#{badge_id}", *survey_cells(per[badge_id])])
    return table


def department(session: Session, year: str, *, weeks: int, now: datetime, only: str | None = None) -> Report:
    """The department's dashboard: every district. `only`: build just that table (a CSV download).

    Medians are left to the district pages: ordering a state's durations costs more than a page may."""
    badges = q.catalogue(session)
    figures = q.work_figures(session, year)  # per (district, badge class)
    per_badge = {(badge,): f for badge, f in q.roll_up(figures, lambda g: g[-1]).items()}  # the smaller roll-up source
    builders = {
        "districts": lambda: _districts(session, year, figures, weeks=weeks, now=now),
        "pathways": lambda: _by_pathway(per_badge, badges, _enrolled_per_pathway(session, year)),
        "badge-classes": lambda: _by_badge(per_badge, badges),
        "indicators": lambda: _by_indicator(per_badge, badges),
        "months": lambda: _months(session, year, None),
        "assessors": lambda: _assessors(session, year),
        "cohorts": lambda: _cohorts(session, year, None),
        "surveys": lambda: _surveys(session, year, badges, None),
    }
    tables = {name: build() for name, build in builders.items() if only in (None, name)}
    if only is not None:
        return Report(year, q.Figures(), (None, None), (0, None), tables, survey_results.SurveySummary(0, {}, None, {}))
    districts = tables["districts"]
    return Report(year, q.total(per_badge), (None, None), q.review_queue_age(session, now=now), tables,
                  survey_results.end_of_year(session, year), extra={"district_ids": districts.extra_ids, "weeks": weeks})


def _enrolled_per_pathway(session: Session, year: str) -> dict[str, int]:
    rows = session.execute(select(Enrolment.pathway, func.count()).where(Enrolment.year == year)
                           .group_by(Enrolment.pathway))
    return {**dict.fromkeys(CAPS, 0), **dict(rows.all())}


def _districts(session: Session, year: str, figures: dict[tuple, q.Figures], *, weeks: int, now: datetime) -> Table:
    enrolment = q.enrolment_by_district(session, year)
    inactive = q.inactive_counts(session, year, weeks=weeks, now=now)
    per_district = q.roll_up(figures, lambda g: g[0])
    districts = q.district_names(session)
    table = Table("districts", "By district", ("District", "Code", *(f"Enrolled: {PATHWAYS[p]}" for p in CAPS),
                                              f"No activity for {weeks} weeks", *FIGURE_COLUMNS), label_columns=2)
    for district_id, district in districts.items():
        counts = enrolment.get(district_id, dict.fromkeys(CAPS, 0))
        table.rows.append([district.name, district.code, *counts.values(), inactive.get(district_id, 0),
                           *figure_cells(per_district.get(district_id, q.Figures()))])
    table.extra_ids = list(districts)
    return table


def _assessors(session: Session, year: str) -> Table:
    table = Table("assessors", "Assessors' decisions in the year", ("Assessor", "Decisions", "Earned", "Pass rate (%)",
                                                                     "Mean days to decision"))
    for w in q.assessor_workload(session, year):
        table.rows.append([w.name, w.decisions, w.earned, _pct(w.earned / w.decisions), _days(w.mean_days)])
    return table


def district(session: Session, year: str, *, district_id: int, weeks: int, now: datetime) -> Report:
    """One district's dashboard (its coordinator's view)."""
    badges = q.catalogue(session)
    figures = q.work_figures(session, year, district_id=district_id, by=("badge_class_id",))
    enrolled = q.enrolment_by_district(session, year).get(district_id, dict.fromkeys(CAPS, 0))
    caps = Table("caps", "Enrolment against the caps", ("Pathway", "Enrolled", "Cap", "Places left"))
    for pathway, cap in CAPS.items():
        caps.rows.append([PATHWAYS[pathway], enrolled[pathway], cap, max(cap - enrolled[pathway], 0)])
    quiet = q.inactive_teachers(session, year, district_id=district_id, weeks=weeks, now=now)
    inactive = Table("inactive", f"Teachers with no activity for {weeks} weeks or more", ("Teacher", "Email", "Pathway",
                                                                                        "Last activity"), label_columns=4)
    inactive.rows = [[t.name, t.email, PATHWAYS.get(t.pathway, t.pathway), t.last_at.date().isoformat()] for t in quiet]
    tables = [caps, _cohorts(session, year, district_id), _by_badge(figures, badges), _months(session, year, district_id),
              _surveys(session, year, badges, district_id), inactive, teachers(session, year, district_id=district_id)]
    headline = q.total(figures)
    return Report(year, headline, q.median_days(session, year, headline, district_id=district_id),
                  q.review_queue_age(session, now=now, district_id=district_id), {t.id: t for t in tables},
                  survey_results.end_of_year(session, year, district_id=district_id), extra={"weeks": weeks})


def teachers(session: Session, year: str, *, district_id: int) -> Table:
    """Each teacher enrolled in the district in `year`, with their work started that year."""
    work = (select(Submission.user_id, func.count().label("started"), func.count(Submission.submitted_at).label("submitted"),
                   q.count_if(Submission.state == "earned").label("earned"),
                   q.count_if(Submission.state == "not_yet").label("not_yet"),
                   func.max(Submission.updated_at).label("last_at"))
            .where(Submission.year == year, Submission.district_id == district_id)
            .group_by(Submission.user_id).subquery())
    rows = session.execute(select(User.display_name, User.email, Enrolment.pathway, work.c.started, work.c.submitted,
                                  work.c.earned, work.c.not_yet, work.c.last_at)
                           .join(User, User.id == Enrolment.user_id).outerjoin(work, work.c.user_id == Enrolment.user_id)
                           .where(Enrolment.year == year, Enrolment.district_id == district_id)
                           .order_by(User.display_name, User.email))
    table = Table("teachers", "Teachers and their work this year", ("Teacher", "Email", "Pathway", "Started", "Submitted",
                                                                    "Earned", "Not yet", "Last change to their work"),
                  label_columns=3)
    for name, email, pathway, *counts, last_at in rows:
        table.rows.append([name, email, PATHWAYS.get(pathway, pathway), *(c or 0 for c in counts),
                           last_at.date().isoformat() if last_at else None])
    return table
