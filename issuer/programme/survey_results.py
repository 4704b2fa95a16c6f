"""Survey results for dashboards: averages and shares per group, computed in the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from ..models import WORKED_WITH, SurveyResponse

RATINGS = ("quality", "rigour", "relevance", "resources")


@dataclass(frozen=True)
class SurveySummary:
    """Answers of one group: how many, mean ratings (of those who rated), mean hours, how people worked."""

    responses: int
    means: dict[str, float | None]  # rating name -> mean (1-5)
    mean_hours: float | None
    worked_with: dict[str, int]  # alone / mentor / colleagues -> answers


def _columns() -> list[Any]:
    cols: list[Any] = [func.count()]
    cols += [func.avg(getattr(SurveyResponse, name)) for name in RATINGS]
    cols.append(func.avg(SurveyResponse.hours))
    cols += [func.coalesce(func.sum(case((SurveyResponse.worked_with == w, 1), else_=0)), 0) for w in WORKED_WITH]
    return cols


def _summary(row: Any) -> SurveySummary:
    n, *rest = row
    means = {name: (None if v is None else float(v)) for name, v in zip(RATINGS, rest[:4], strict=True)}
    hours = rest[4]
    return SurveySummary(n, means, None if hours is None else float(hours), dict(zip(WORKED_WITH, rest[5:8], strict=True)))


def by_badge_class(session: Session, year: str, *, district_id: int | None = None) -> dict[int, SurveySummary]:
    """Surveys after decisions in `year`, per badge class id."""
    query = (select(SurveyResponse.badge_class_id, *_columns())
             .where(SurveyResponse.year == year, SurveyResponse.kind == "attempt")
             .group_by(SurveyResponse.badge_class_id))
    if district_id is not None:
        query = query.where(SurveyResponse.district_id == district_id)
    return {row[0]: _summary(row[1:]) for row in session.execute(query)}


def end_of_year(session: Session, year: str, *, district_id: int | None = None) -> SurveySummary:
    """The end-of-year surveys of `year`, together."""
    query = select(*_columns()).where(SurveyResponse.year == year, SurveyResponse.kind == "year")
    if district_id is not None:
        query = query.where(SurveyResponse.district_id == district_id)
    return _summary(session.execute(query).one())
