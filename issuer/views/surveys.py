"""The teacher's feedback surveys under /my/surveys: after a decision, and at the end of the year.

Views parse, call issuer.surveys in one transaction and redirect; refused answers come back on
the page (4xx) with what was typed and an error summary linked to the fields.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request
from sqlalchemy.orm import Session

from ..catalog.versions import badge_version
from ..models import BadgeClassRecord
from ..programme import surveys as service
from ..runtime import runtime
from .auth import roles_required
from .errors import status_for

bp = Blueprint("surveys", __name__)
THANKS = "Thank you: your answers are saved. You can change them until {deadline:%d %B %Y}."


@bp.route("/attempts/<int:attempt_id>", methods=["GET", "POST"])
@roles_required("teacher")
def attempt(attempt_id: int):
    """The survey on one decided attempt of the teacher's own work (404 for anyone else's)."""
    return _survey(lambda session, today: service.attempt_target(
        session, g.user, attempt_id, settings=runtime().settings, today=today))


@bp.route("/year/<year>", methods=["GET", "POST"])
@roles_required("teacher")
def year(year: str):
    """The end-of-year survey of a programme year the teacher was enrolled in."""
    return _survey(lambda session, today: service.year_target(
        session, g.user, year, settings=runtime().settings, today=today))


def _survey(find):
    now = runtime().now()
    problems: list[tuple[str, str]] = []
    typed: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        typed = request.form.to_dict()
        try:
            answers = service.parse_answers(typed)
            with runtime().database.transaction() as session:
                target = find(session, now.date())
                service.save(session, g.user, target, answers, revision=_whole(typed.get("revision")), now=now)
            flash(THANKS.format(deadline=target.deadline))
            return redirect(request.path)
        except service.SurveyError as exc:
            problems, status = exc.problems, status_for(exc)
        except (service.SurveyClosed, service.StaleSurvey) as exc:
            problems, status = [("survey-title", exc.message)], status_for(exc)
    with runtime().database.transaction() as session:
        target = find(session, now.date())
        return render_template("surveys/survey.html", target=target, title=_title(session, target),
                               values=typed if typed is not None else _saved(target), problems=problems,
                               ratings=service.RATING_LABELS, worked_with=service.WORKED_WITH_LABELS,
                               today=now.date()), status


def _title(session: Session, target: service.SurveyTarget) -> str:
    """What the survey is about: the micro-credential (as the version started) or the year."""
    if target.submission is None:
        return f"Your {target.year} programme year"
    record = session.get(BadgeClassRecord, target.submission.badge_class_id)
    return badge_version(session, record.slug, target.submission.badge_version).title


def _saved(target: service.SurveyTarget) -> dict[str, Any]:
    row = target.response
    if row is None:
        return {}
    values = {name: getattr(row, name) for name in (*service.RATINGS, "worked_with", "comment")}
    values["hours"] = "" if row.hours is None else f"{row.hours:g}"
    values["revision"] = row.revision
    return {k: ("" if v is None else str(v)) for k, v in values.items()}


def _whole(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None

