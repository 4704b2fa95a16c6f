"""A small known programme for the dashboard, survey and export tests: two districts, their people,
and work with fixed timestamps, described as plain Python lists that tests compute figures from."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from issuer.models import Attempt, BadgeClassRecord, District, Enrolment, Submission, SurveyResponse, User
from issuer.models.work import seconds_between, work_facts
from issuer.people.districts import programme_year

NOW = datetime.now(UTC)
YEAR = programme_year(NOW.date())
START = datetime(int(YEAR[:4]), 7, 1, 9, 0, tzinfo=UTC)
LAST_YEAR = f"{int(YEAR[:4]) - 1}-{int(YEAR[2:4]):02d}"


@dataclass(frozen=True)
class Work:
    """One submission: who, which micro-credential, started (days after 1 July), its attempts as
    (submitted day, decided day or None, decision or None)."""

    teacher: str
    slug: str
    started: float
    attempts: tuple[tuple[float, float | None, str | None], ...] = ()
    withdrawn: bool = False

    @property
    def state(self) -> str:
        if self.withdrawn:
            return "withdrawn"
        if not self.attempts:
            return "draft"
        return self.attempts[-1][2] or "submitted"


# Teachers: name -> (district code, pathway, years enrolled)
TEACHERS = {
    "Ada Lovelace": ("AAA", "team", (LAST_YEAR, YEAR)),
    "Grace Hopper": ("AAA", "team", (YEAR,)),
    "Alan Turing": ("AAA", "teacher-leader", (YEAR,)),
    "Edsger Dijkstra": ("BBB", "team", (YEAR,)),
    "Barbara Liskov": ("BBB", "team", (YEAR,)),
}
WORK = [
    Work("Ada Lovelace", "questioning-higher-order", 2, ((10, 15, "not_yet"), (20, 23.5, "earned"))),
    Work("Ada Lovelace", "thinking-creative", 5, ((40, 41, "earned"),)),
    Work("Grace Hopper", "questioning-higher-order", 3, ((33, None, None),)),
    Work("Grace Hopper", "thinking-analytical", 4),
    Work("Alan Turing", "leader-peer-coaching-cycle", 1, ((8, 12, "not_yet"),)),
    Work("Alan Turing", "thinking-creative", 6, withdrawn=True),
    Work("Edsger Dijkstra", "questioning-higher-order", 7, ((12, 19, "earned"),)),
    Work("Barbara Liskov", "thinking-creative", 9, ((50, 52, "not_yet"),)),
]
# Survey answers after decisions: (teacher, slug, attempt number) -> ratings etc.
SURVEYS = {
    ("Ada Lovelace", "questioning-higher-order", 2): {"quality": 5, "rigour": 4, "relevance": 5, "resources": 3,
                                                       "hours": 12.0, "worked_with": "mentor",
                                                       "comment": "My mentor Ms Example helped."},
    ("Ada Lovelace", "thinking-creative", 1): {"quality": 3, "rigour": 2, "relevance": None, "resources": 4,
                                                "hours": 6.5, "worked_with": "alone", "comment": None},
    ("Edsger Dijkstra", "questioning-higher-order", 1): {"quality": 4, "rigour": 4, "relevance": 4, "resources": 4,
                                                          "hours": 8.0, "worked_with": "colleagues", "comment": None},
}


def at(days: float) -> datetime:
    return START + timedelta(days=days)


@dataclass
class Programme:
    districts: dict[str, int] = field(default_factory=dict)  # code -> id
    users: dict[str, int] = field(default_factory=dict)  # name or role key -> id
    submissions: dict[int, int] = field(default_factory=dict)  # index in WORK -> submission id
    attempts: dict[tuple[int, int], int] = field(default_factory=dict)  # (work index, number) -> attempt id


def build(app: Flask) -> Programme:
    """Insert the known programme into the app's database."""
    made = Programme()
    with app.extensions["microcred"].database.transaction() as session:
        for code in ("AAA", "BBB"):
            district = District(name=f"District {code}", code=code)
            session.add(district)
            session.flush()
            made.districts[code] = district.id
        staff = {"admin": (["admin"], None), "assessor": (["assessor"], "BBB"), "coordinator-AAA": (["coordinator"], "AAA"),
                 "coordinator-BBB": (["coordinator"], "BBB"), "teacher-only": (["teacher"], "AAA")}
        for key, (roles, code) in staff.items():
            user = User(email=f"{key}@programme-tests.example", display_name=key.title(), roles=roles,
                        district_id=made.districts.get(code))
            session.add(user)
            session.flush()
            made.users[key] = user.id
        for name, (code, pathway, years) in TEACHERS.items():
            email = name.lower().replace(" ", ".") + "@programme-tests.example"
            user = User(email=email, display_name=name, roles=["teacher"], district_id=made.districts[code])
            session.add(user)
            session.flush()
            made.users[name] = user.id
            for y in years:
                session.add(Enrolment(user_id=user.id, district_id=made.districts[code], pathway=pathway, year=y,
                                      created_by="test", created_at=at(0 if y == YEAR else -365)))
        records = {r.slug: r for r in session.scalars(select(BadgeClassRecord))}
        for i, w in enumerate(WORK):
            last = max([w.started] + [d or s for s, d, _ in w.attempts])
            sub = Submission(user_id=made.users[w.teacher], badge_class_id=records[w.slug].id,
                             badge_version=records[w.slug].current_version,
                             district_id=made.districts[TEACHERS[w.teacher][0]], state=w.state, started_at=at(w.started),
                             updated_at=at(last), submitted_at=at(w.attempts[-1][0]) if w.attempts else None,
                             decided_at=at(w.attempts[-1][1]) if w.attempts and w.attempts[-1][1] else None)
            session.add(sub)
            session.flush()
            made.submissions[i] = sub.id
            for number, (sent, decided, decision) in enumerate(w.attempts, start=1):
                attempt = Attempt(submission_id=sub.id, number=number, content={}, submitted_at=at(sent),
                                  decided_at=at(decided) if decided else None, decision=decision,
                                  assessor_id=made.users["assessor"] if decision else None,
                                  **work_facts(sub, at(sent)),  # as submissions.submit and reviews.decide write them
                                  seconds_to_decision=seconds_between(at(decided), at(sent)) if decided else None)
                session.add(attempt)
                session.flush()
                made.attempts[(i, number)] = attempt.id
        for (teacher, slug, number), answers in SURVEYS.items():
            i = next(k for k, w in enumerate(WORK) if w.teacher == teacher and w.slug == slug)
            session.add(SurveyResponse(user_id=made.users[teacher], kind="attempt", year=YEAR,
                                       attempt_id=made.attempts[(i, number)], badge_class_id=records[slug].id,
                                       district_id=made.districts[TEACHERS[teacher][0]], **answers))
    return made


def signed_in(app: Flask, user_id: int | None) -> FlaskClient:
    """A client whose session belongs to `user_id` (None: anonymous)."""
    client = app.test_client()
    if user_id is not None:
        with client.session_transaction() as session:
            session["user_id"], session["epoch"] = user_id, 0
    return client


def csrf_token(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)
