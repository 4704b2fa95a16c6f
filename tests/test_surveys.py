"""Feedback surveys: offered after a decision (on /my and the submission page), optional answers
validated with clear messages, one per attempt, editable until the year closes, never anyone else's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from issuer.config import load_settings
from issuer.errors import ConfigError
from issuer.models import SurveyResponse
from issuer.programme.surveys import closes_on, opens_on

from app_support import clean_environment, initialised_app, module_config
from programme_support import WORK, YEAR, Programme, build, csrf_token, signed_in


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with clean_environment():
        application = initialised_app(module_config(tmp_path_factory, "surveys"))
    yield application
    application.extensions["microcred"].database.dispose()


@pytest.fixture(scope="module")
def programme(app: Flask) -> Programme:
    return build(app)


def _attempt(programme: Programme, teacher: str, slug: str, number: int) -> int:
    i = next(k for k, w in enumerate(WORK) if w.teacher == teacher and w.slug == slug)
    return programme.attempts[(i, number)]


def _responses(app: Flask, attempt_id: int) -> list[SurveyResponse]:
    with app.extensions["microcred"].database.transaction() as session:
        return list(session.scalars(select(SurveyResponse).where(SurveyResponse.attempt_id == attempt_id)))


def test_offer_appears_after_a_decision_and_answers_are_saved_then_changed(app: Flask, programme: Programme) -> None:
    client = signed_in(app, programme.users["Barbara Liskov"])
    attempt_id = _attempt(programme, "Barbara Liskov", "thinking-creative", 1)
    url = f"/my/surveys/attempts/{attempt_id}"
    assert url in client.get("/my/").get_data(as_text=True)
    sid = programme.submissions[next(k for k, w in enumerate(WORK) if w.teacher == "Barbara Liskov")]
    assert url in client.get(f"/my/submissions/{sid}").get_data(as_text=True)
    page = client.get(url).get_data(as_text=True)
    answers = {"quality": "4", "rigour": "5", "relevance": "", "resources": "2", "hours": "7.5",
               "worked_with": "colleagues", "comment": "Useful.", "revision": "", "csrf_token": csrf_token(page)}
    response = client.post(url, data=answers)
    assert response.status_code == 302
    [row] = _responses(app, attempt_id)
    assert (row.quality, row.rigour, row.relevance, row.resources, row.hours, row.worked_with) == (4, 5, None, 2, 7.5,
                                                                                                    "colleagues")
    page = client.get(url).get_data(as_text=True)
    assert 'value="4" checked' in page and "Save my changes" in page
    revision = re.search(r'name="revision" value="(\d+)"', page).group(1)
    response = client.post(url, data={**answers, "quality": "2", "revision": revision, "csrf_token": csrf_token(page)})
    assert response.status_code == 302
    [row] = _responses(app, attempt_id)  # still one per attempt
    assert row.quality == 2
    # A form loaded before that change is refused rather than silently overwriting it.
    stale = client.post(url, data={**answers, "revision": revision, "csrf_token": csrf_token(page)})
    assert stale.status_code == 409


@pytest.mark.parametrize(("field", "value", "message"), [
    ("quality", "6", "Choose a rating from 1 to 5."), ("rigour", "x", "Choose a rating from 1 to 5."),
    ("hours", "-1", "Give the hours as a number"), ("hours", "lots", "Give the hours as a number"),
    ("worked_with", "team", "Choose one of the options."), ("comment", "x" * 4001, "under 4,000 characters"),
])
def test_bad_answers_come_back_with_a_message(app: Flask, programme: Programme, field: str, value: str,
                                              message: str) -> None:
    client = signed_in(app, programme.users["Alan Turing"])
    url = f"/my/surveys/attempts/{_attempt(programme, 'Alan Turing', 'leader-peer-coaching-cycle', 1)}"
    page = client.get(url).get_data(as_text=True)
    response = client.post(url, data={"quality": "3", field: value, "csrf_token": csrf_token(page)})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert f'href="#{field}"' in response.get_data(as_text=True)


def test_an_empty_survey_is_not_stored(app: Flask, programme: Programme) -> None:
    client = signed_in(app, programme.users["Alan Turing"])
    attempt_id = _attempt(programme, "Alan Turing", "leader-peer-coaching-cycle", 1)
    page = client.get(f"/my/surveys/attempts/{attempt_id}").get_data(as_text=True)
    response = client.post(f"/my/surveys/attempts/{attempt_id}", data={"csrf_token": csrf_token(page)})
    assert response.status_code == 400 and "Answer at least one question" in response.get_data(as_text=True)
    assert _responses(app, attempt_id) == []


def test_nobody_else_sees_or_answers_a_teachers_survey(app: Flask, programme: Programme) -> None:
    attempt_id = _attempt(programme, "Barbara Liskov", "thinking-creative", 1)
    other = signed_in(app, programme.users["Grace Hopper"])
    assert other.get(f"/my/surveys/attempts/{attempt_id}").status_code == 404
    undecided = _attempt(programme, "Grace Hopper", "questioning-higher-order", 1)  # still with an assessor
    assert other.get(f"/my/surveys/attempts/{undecided}").status_code == 404
    assessor = signed_in(app, programme.users["assessor"])
    assert assessor.get(f"/my/surveys/attempts/{attempt_id}").status_code == 403
    assert signed_in(app, None).get(f"/my/surveys/attempts/{attempt_id}").status_code == 302


def test_end_of_year_survey_only_for_enrolled_years_once_open(app: Flask, programme: Programme,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Both sides of the opening day, whatever today is: the app's clock is pinned to the day before, then to it."""
    rt = app.extensions["microcred"]
    opening = opens_on(rt.settings, YEAR)
    client = signed_in(app, programme.users["Grace Hopper"])
    for day, expected in ((opening - timedelta(days=1), 404), (opening, 200)):
        monkeypatch.setattr(rt, "clock", lambda day=day: datetime.combine(day, time(12), UTC))
        response = client.get(f"/my/surveys/year/{YEAR}")
        assert response.status_code == expected, day
    assert client.get("/my/surveys/year/1999-00").status_code == 404
    assert client.get("/my/surveys/year/nonsense").status_code == 404


def test_the_year_calendar_is_configurable() -> None:
    settings = load_settings({"instance": "/tmp/x", "surveys_close": "05-31", "year_survey_opens": "03-15"}, environ={})
    assert closes_on(settings, "2026-27") == date(2027, 5, 31)
    assert opens_on(settings, "2026-27") == date(2027, 3, 15)
    with pytest.raises(ConfigError, match="MM-DD"):
        load_settings({"instance": "/tmp/x", "surveys_close": "13-40"}, environ={})


def test_closed_survey_shows_answers_but_refuses_changes(app: Flask, programme: Programme) -> None:
    """A survey whose year has closed: Ada's answers from the fixture, moved to a long-gone year."""
    attempt_id = _attempt(programme, "Ada Lovelace", "thinking-creative", 1)
    with app.extensions["microcred"].database.transaction() as session:
        from issuer.models import Attempt
        attempt = session.get(Attempt, attempt_id)
        saved_at = attempt.decided_at
        attempt.decided_at = attempt.decided_at.replace(year=2001)
    try:
        client = signed_in(app, programme.users["Ada Lovelace"])
        page = client.get(f"/my/surveys/attempts/{attempt_id}")
        assert page.status_code == 200 and "This survey closed" in page.get_data(as_text=True)
        response = client.post(f"/my/surveys/attempts/{attempt_id}",
                               data={"quality": "1", "csrf_token": csrf_token(page.get_data(as_text=True))})
        assert response.status_code == 409
        with app.extensions["microcred"].database.transaction() as session:
            assert session.scalar(select(func.count()).select_from(SurveyResponse)
                                  .where(SurveyResponse.attempt_id == attempt_id, SurveyResponse.quality == 1)) == 0
    finally:
        with app.extensions["microcred"].database.transaction() as session:
            session.get(Attempt, attempt_id).decided_at = saved_at
