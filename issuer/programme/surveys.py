"""Teachers' feedback surveys: after each decision on an attempt, and at the end of each year.

One after each decision (earned or not yet) and one at the end of each programme year. Every answer
is optional; a survey can be changed until its programme year closes (the MICROCRED_SURVEYS_CLOSE
day), and always for two weeks after a decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..catalog.versions import badge_version
from ..config import Settings
from ..errors import Conflict, InvalidInput, IssuerError, NotFound
from ..models import WORKED_WITH, Attempt, BadgeClassRecord, Enrolment, Submission, SurveyResponse, User
from ..people.districts import check_year, programme_year

RATINGS = ("quality", "rigour", "relevance", "resources")
RATING_LABELS = {"quality": "Quality of the micro-credential", "rigour": "Rigour (how demanding it was)",
                 "relevance": "Relevance to your teaching", "resources": "Helpfulness of the resources"}
WORKED_WITH_LABELS = {"alone": "Alone", "mentor": "With a mentor", "colleagues": "With colleagues"}
GRACE = timedelta(days=14)  # a decision made near the close still leaves time to answer
MAX_HOURS = 500


class SurveyError(InvalidInput):
    """Answers that cannot be stored; `problems` are (field, message) pairs."""

    code = "survey_invalid"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("Your answers were not saved: " + "; ".join(m for _, m in problems))


class SurveyClosed(Conflict):
    code = "survey_closed"


class SurveyNotFound(NotFound):
    code = "not_found"


class StaleSurvey(Conflict):
    code = "stale_form"


class _AnswersSchema(Schema):
    """What a survey form may hold; empty fields arrive as None (not answered)."""

    quality = fields.Integer(allow_none=True, validate=validate.Range(1, 5, error="Choose a rating from 1 to 5."))
    rigour = fields.Integer(allow_none=True, validate=validate.Range(1, 5, error="Choose a rating from 1 to 5."))
    relevance = fields.Integer(allow_none=True, validate=validate.Range(1, 5, error="Choose a rating from 1 to 5."))
    resources = fields.Integer(allow_none=True, validate=validate.Range(1, 5, error="Choose a rating from 1 to 5."))
    hours = fields.Float(allow_none=True, allow_nan=False, validate=validate.Range(
        0, MAX_HOURS, error=f"Give the hours as a number from 0 to {MAX_HOURS}."))
    worked_with = fields.String(allow_none=True, validate=validate.OneOf(WORKED_WITH, error="Choose one of the options."))
    comment = fields.String(allow_none=True, validate=validate.Length(max=4000, error="Keep comments under 4,000 characters."))


_MESSAGES = {"Not a valid integer.": "Choose a rating from 1 to 5.",
             "Not a valid number.": f"Give the hours as a number from 0 to {MAX_HOURS}."}


def parse_answers(form: dict[str, Any]) -> dict[str, Any]:
    """Validated answers from form fields (blank means not answered); SurveyError lists what is wrong."""
    data = {name: (str(form.get(name) or "").strip() or None) for name in _AnswersSchema().fields}
    try:
        answers = _AnswersSchema().load(data)
    except ValidationError as exc:
        problems = [(name, _MESSAGES.get(msgs[0], msgs[0])) for name, msgs in sorted(exc.normalized_messages().items())]
        raise SurveyError(problems) from None
    if all(value is None for value in answers.values()):
        raise SurveyError([("quality", "Answer at least one question (every question is optional).")])
    return answers


# --- the calendar --------------------------------------------------------------------------------


def year_start(year: str) -> date:
    return date(int(year[:4]), 7, 1)


def closes_on(settings: Settings, year: str) -> date:
    """The last day a programme year's surveys can be changed."""
    month, day = settings.surveys_close
    return date(int(year[:4]) + 1, month, day)


def opens_on(settings: Settings, year: str) -> date:
    """The first day of a programme year's end-of-year survey."""
    month, day = settings.year_survey_opens
    return date(int(year[:4]) + (1 if month < 7 else 0), month, day)


def attempt_deadline(settings: Settings, decided_at: datetime) -> date:
    decided = decided_at.date()
    return max(closes_on(settings, programme_year(decided)), decided + GRACE)


# --- offers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """A survey the teacher may answer (or change) today."""

    kind: str  # attempt | year
    year: str
    deadline: date
    answered: bool
    attempt_id: int | None = None
    submission_id: int | None = None
    badge_title: str | None = None
    attempt_number: int | None = None
    decision: str | None = None


def offers(session: Session, user: User, *, settings: Settings, today: date) -> list[Offer]:
    """Every survey this teacher may answer or change today, newest decision first."""
    rows = session.execute(
        select(Attempt.id, Attempt.number, Attempt.decision, Attempt.decided_at, Submission.id, BadgeClassRecord.slug,
               Submission.badge_version, SurveyResponse.id)
        .join(Submission, Submission.id == Attempt.submission_id)
        .join(BadgeClassRecord, BadgeClassRecord.id == Submission.badge_class_id)
        .outerjoin(SurveyResponse, SurveyResponse.attempt_id == Attempt.id)
        .where(Submission.user_id == user.id, Attempt.decision.in_(("earned", "not_yet")))
        .order_by(Attempt.decided_at.desc())).all()
    found = []
    for attempt_id, number, decision, decided_at, submission_id, slug, version, response_id in rows:
        deadline = attempt_deadline(settings, decided_at)
        if today <= deadline:
            found.append(Offer("attempt", programme_year(decided_at.date()), deadline, response_id is not None,
                               attempt_id, submission_id, badge_version(session, slug, version).title, number, decision))
    year_offer = _year_offer(session, user, settings=settings, today=today)
    return ([year_offer] if year_offer else []) + found


def _year_offer(session: Session, user: User, *, settings: Settings, today: date) -> Offer | None:
    year = programme_year(today)
    if not opens_on(settings, year) <= today <= closes_on(settings, year) or _enrolment(session, user, year) is None:
        return None
    answered = session.scalar(select(SurveyResponse.id).where(SurveyResponse.user_id == user.id,
                                                              SurveyResponse.end_of_year == year))
    return Offer("year", year, closes_on(settings, year), answered is not None)


def attempt_offer(session: Session, user: User, submission_id: int, *, settings: Settings, today: date) -> Offer | None:
    """The survey on the latest decided attempt of one submission, when it is open."""
    return next((o for o in offers(session, user, settings=settings, today=today)
                 if o.kind == "attempt" and o.submission_id == submission_id), None)


def _enrolment(session: Session, user: User, year: str) -> Enrolment | None:
    return session.scalar(select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.year == year))


# --- loading and saving ------------------------------------------------------------------------


@dataclass(frozen=True)
class SurveyTarget:
    """What a survey is about, whether it can still be changed, and the answers so far."""

    kind: str
    year: str
    deadline: date
    open: bool
    response: SurveyResponse | None
    attempt: Attempt | None = None
    submission: Submission | None = None


def attempt_target(session: Session, user: User, attempt_id: int, *, settings: Settings, today: date) -> SurveyTarget:
    """The survey of one of the teacher's decided attempts; SurveyNotFound for anyone else's."""
    attempt = session.get(Attempt, attempt_id)
    if attempt is None or attempt.submission.user_id != user.id or attempt.decision not in ("earned", "not_yet"):
        raise SurveyNotFound("There is no such survey.")
    deadline = attempt_deadline(settings, attempt.decided_at)
    response = session.scalar(select(SurveyResponse).where(SurveyResponse.attempt_id == attempt.id))
    return SurveyTarget("attempt", programme_year(attempt.decided_at.date()), deadline, today <= deadline, response,
                        attempt, attempt.submission)


def year_target(session: Session, user: User, year: str, *, settings: Settings, today: date) -> SurveyTarget:
    """The end-of-year survey of a year the teacher was enrolled in; SurveyNotFound otherwise."""
    try:
        check_year(year)
    except IssuerError:
        raise SurveyNotFound("There is no such survey.") from None
    if _enrolment(session, user, year) is None or today < opens_on(settings, year):
        raise SurveyNotFound("There is no end-of-year survey for you in that year.")
    response = session.scalar(select(SurveyResponse).where(SurveyResponse.user_id == user.id,
                                                           SurveyResponse.end_of_year == year))
    deadline = closes_on(settings, year)
    return SurveyTarget("year", year, deadline, today <= deadline, response)


def save(session: Session, user: User, target: SurveyTarget, answers: dict[str, Any], *, revision: int | None,
         now: datetime) -> SurveyResponse:
    """Store or change the answers. SurveyClosed after the deadline; StaleSurvey when the answers
    were changed (in another tab) since the form was loaded."""
    if not target.open:
        raise SurveyClosed(f"This survey closed on {target.deadline:%d %B %Y}; your answers can no longer change.")
    response = target.response
    if response is None:
        response = SurveyResponse(user_id=user.id, kind=target.kind, year=target.year, created_at=now, revision=0)
        if target.attempt is not None and target.submission is not None:
            response.attempt_id = target.attempt.id
            response.badge_class_id = target.submission.badge_class_id
            response.district_id = target.submission.district_id
        else:
            response.end_of_year = target.year
            enrolment = _enrolment(session, user, target.year)
            response.district_id = enrolment.district_id if enrolment else user.district_id
        session.add(response)
    elif revision != response.revision:
        raise StaleSurvey("These answers were changed in another window since you opened this page; "
                          "reload it to see them, then change them again.")
    for name, value in answers.items():
        setattr(response, name, value)
    response.updated_at, response.revision = now, response.revision + 1
    try:
        session.flush()
    except IntegrityError:
        raise StaleSurvey("This survey was just answered in another window; reload the page to change it.") from None
    return response
