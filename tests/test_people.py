"""Districts, enrolments and their caps, invitations, password resets and account administration,
through the real app with real CSRF tokens (and the services directly where a page would be slow)."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select

from issuer import create_app
from issuer.models import AuditEvent, District, Enrolment, Invitation, LoginFailure, OutboxMessage, User
from issuer.people.accounts import DEMO_ACCOUNTS, hash_password, verify_password
from issuer.people.auth import LOGIN_FAILED
from issuer.people.districts import CAPS, CapReached, PeopleError, below_minimum, create_district, enrol, programme_year
from issuer.people.invitations import LinkExpired, PasswordRejected, accept_invitation, invite
from issuer.views.errors import status_for

from app_support import clean_environment, initialised_app, module_config

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase 42"
YEAR = programme_year(datetime.now(UTC).date())
People = Callable[..., User]


# --- one initialised app for the module -------------------------------------------------------



@pytest.fixture(scope="module")
def app_config(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return module_config(tmp_path_factory, "people")


@pytest.fixture(scope="module")
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    """One initialised app (no SMTP: the demo set-up) for the module; tests use their own districts."""
    with clean_environment():
        application = initialised_app(app_config)
    yield application
    application.extensions["microcred"].database.dispose()


@pytest.fixture(autouse=True)
def _no_failed_logins(app: Flask) -> None:
    with _db(app) as session:
        session.execute(delete(LoginFailure))


_numbers = itertools.count(1)
_DIGEST = hash_password(PASSWORD)  # once: argon2id is slow on purpose


@pytest.fixture
def district(app: Flask) -> Callable[[], District]:
    """Factory: a new district of its own for the test."""
    def make() -> District:
        n = next(_numbers)
        with _db(app) as session:
            place = District(name=f"District {n}", code=f"D{n}")
            session.add(place)
        return place
    return make


@pytest.fixture
def person(app: Flask) -> People:
    """Factory: person(*roles, district=None) -> a new account with PASSWORD."""
    def make(*roles: str, district: District | None = None) -> User:
        n = next(_numbers)
        with _db(app) as session:
            user = User(email=f"person{n}@people-tests.example", display_name=f"Person {n}", roles=list(roles),
                        password_hash=_DIGEST, district_id=district.id if district else None)
            session.add(user)
        return user
    return make


def _db(app: Flask):
    return app.extensions["microcred"].database.transaction()


def _csrf(client: FlaskClient, url: str = "/login") -> str:
    page = client.get(url).get_data(as_text=True)
    tokens = re.findall(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', page)
    assert tokens, page
    return html.unescape(tokens[0])


def _sign_in(client: FlaskClient, email: str, password: str = PASSWORD):
    return client.post("/login", data={"csrf_token": _csrf(client), "email": email, "password": password})


def _client(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    assert _sign_in(client, user.email).status_code == 302
    return client


def _post(client: FlaskClient, url: str, data: dict[str, Any]):
    return client.post(url, data={"csrf_token": _csrf(client, "/reset"), **data})


def _text(response) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]*>", " ", response.get_data(as_text=True)).split()))


def _alert(response) -> str:
    match = re.search(r'<(\w+)[^>]*role="alert"[^>]*>(.*?)</\1>', response.get_data(as_text=True), re.S)
    return html.unescape(" ".join(re.sub(r"<[^>]*>", " ", match.group(2)).split())) if match else ""


def _notices(client: FlaskClient, response) -> list[str]:
    """The flashed notices shown on the page a redirect leads to."""
    assert response.status_code == 302, _text(response)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return [html.unescape(m) for m in re.findall(r'<p class="alert alert-info" role="status">(.*?)</p>', page, re.S)]


def _signed_in(client: FlaskClient) -> bool:
    with client.session_transaction() as session:
        return session.get("user_id") is not None


def _teachers(app: Flask, place: District, count: int, *, enrolled: str | None = None) -> list[int]:
    """`count` teachers of `place` in one transaction, enrolled directly in `enrolled` when given."""
    with _db(app) as session:
        users = [User(email=f"bulk{next(_numbers)}@people-tests.example", display_name="Bulk Teacher",
                      roles=["teacher"], password_hash=_DIGEST, district_id=place.id) for _ in range(count)]
        session.add_all(users)
        session.flush()
        if enrolled:
            session.add_all(Enrolment(user_id=u.id, district_id=place.id, pathway=enrolled, year=YEAR,
                                      created_by="test") for u in users)
        return [u.id for u in users]


def _outbox_link(app: Flask, email: str, kind: str) -> str:
    with _db(app) as session:
        body = session.scalars(select(OutboxMessage.body).where(OutboxMessage.to_address == email,
                                                                OutboxMessage.kind == kind)
                               .order_by(OutboxMessage.id.desc())).first()
    assert body, f"no {kind} mail to {email}"
    return urlsplit(re.search(r"https?://\S+", body).group(0)).path


# --- programme year ---------------------------------------------------------------------------


@pytest.mark.parametrize(("day", "year"), [(date(2026, 6, 30), "2025-26"), (date(2026, 7, 1), "2026-27"),
                                           (date(2027, 1, 15), "2026-27"), (date(1999, 7, 1), "1999-00")])
def test_a_programme_year_starts_on_1_july(day: date, year: str) -> None:
    assert programme_year(day) == year


# --- caps and the minimum -----------------------------------------------------------------------


def test_teacher_leader_cap_14th_is_enrolled_15th_refused_with_the_numbers(app: Flask, district, person) -> None:
    place, admin = district(), person("admin")
    _teachers(app, place, 13, enrolled="teacher-leader")
    fourteenth, fifteenth = _teachers(app, place, 2)
    with _db(app) as session:
        enrol(session, user=session.get(User, fourteenth), district=session.get(District, place.id),
              pathway="teacher-leader", year=YEAR, actor=session.get(User, admin.id))
    with _db(app) as session, pytest.raises(CapReached) as refused:
        enrol(session, user=session.get(User, fifteenth), district=session.get(District, place.id),
              pathway="teacher-leader", year=YEAR, actor=session.get(User, admin.id))
    message = refused.value.message
    assert place.name in message and "Teacher-leader" in message and YEAR in message
    assert "already has 14" in message and "the cap is 14" in message
    assert status_for(refused.value) == 409

    # The same through the coordinator's page: 409 and the message, nothing stored.
    coordinator = _client(app, person("coordinator", district=place))
    response = _post(coordinator, f"/people/districts/{place.id}/enrol",
                     {"user_id": fifteenth, "pathway": "teacher-leader"})
    assert response.status_code == 409
    assert "the cap is 14" in _alert(response)
    with _db(app) as session:
        assert session.scalar(select(func.count()).select_from(Enrolment).where(
            Enrolment.district_id == place.id, Enrolment.pathway == "teacher-leader")) == 14


def test_team_cap_100th_is_enrolled_101st_refused(app: Flask, district, person) -> None:
    place, admin = district(), person("admin")
    _teachers(app, place, 99, enrolled="team")
    hundredth, hundred_and_first = _teachers(app, place, 2)
    with _db(app) as session:
        enrol(session, user=session.get(User, hundredth), district=session.get(District, place.id),
              pathway="team", year=YEAR, actor=session.get(User, admin.id))
    with _db(app) as session, pytest.raises(CapReached, match=r"already has 100 .*TEAM-aligned.*the cap is 100"):
        enrol(session, user=session.get(User, hundred_and_first), district=session.get(District, place.id),
              pathway="team", year=YEAR, actor=session.get(User, admin.id))
    # The other pathway still has room; moving someone into the full one is refused too (an update is cap-checked).
    with _db(app) as session:
        enrol(session, user=session.get(User, hundred_and_first), district=session.get(District, place.id),
              pathway="teacher-leader", year=YEAR, actor=session.get(User, admin.id))
    with _db(app) as session, pytest.raises(CapReached):
        enrol(session, user=session.get(User, hundred_and_first), district=session.get(District, place.id),
              pathway="team", year=YEAR, actor=session.get(User, admin.id))
    with _db(app) as session:  # re-enrolling where one already is changes nothing and is always allowed
        enrol(session, user=session.get(User, hundredth), district=session.get(District, place.id),
              pathway="team", year=YEAR, actor=session.get(User, admin.id))
        assert session.scalar(select(func.count()).select_from(Enrolment).where(
            Enrolment.district_id == place.id, Enrolment.pathway == "team")) == CAPS["team"]


def test_one_enrolment_per_teacher_and_year_moving_is_audited(app: Flask, district, person) -> None:
    place = district()
    coordinator_account = person("coordinator", district=place)
    coordinator = _client(app, coordinator_account)
    teacher = person("teacher", district=place)
    for pathway in ("team", "teacher-leader"):
        response = _post(coordinator, f"/people/districts/{place.id}/enrol", {"user_id": teacher.id, "pathway": pathway})
        assert response.status_code == 302
    with _db(app) as session:
        rows = session.scalars(select(Enrolment).where(Enrolment.user_id == teacher.id)).all()
        assert [(r.pathway, r.year) for r in rows] == [("teacher-leader", YEAR)]
        events = session.scalars(select(AuditEvent).where(AuditEvent.subject == f"user:{teacher.email}")
                                 .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["enrolment.created", "enrolment.changed"]
    assert events[0].detail["from"] is None and events[0].detail["to"]["pathway"] == "team"
    assert events[1].detail["from"]["pathway"] == "team" and events[1].detail["to"]["pathway"] == "teacher-leader"
    assert {e.actor for e in events} == {coordinator_account.email}

    response = _post(coordinator, f"/people/districts/{place.id}/withdraw", {"user_id": teacher.id})
    assert response.status_code == 302
    with _db(app) as session:
        assert session.scalar(select(Enrolment).where(Enrolment.user_id == teacher.id)) is None


def test_below_ten_teachers_the_coordinator_sees_a_warning(app: Flask, district, person) -> None:
    place = district()
    coordinator = _client(app, person("coordinator", district=place))
    _teachers(app, place, 9, enrolled="team")
    with _db(app) as session:
        assert below_minimum(session, session.get(District, place.id), YEAR) is True
    page = coordinator.get(f"/people/districts/{place.id}")
    assert page.status_code == 200
    assert "9 teachers enrolled in" in _text(page) and "at least 10" in _text(page)

    _teachers(app, place, 1, enrolled="teacher-leader")
    with _db(app) as session:
        assert below_minimum(session, session.get(District, place.id), YEAR) is False
    page = _text(coordinator.get(f"/people/districts/{place.id}"))
    assert "at least 10" not in page
    assert re.search(r"TEAM-aligned 9 100 91", page) and re.search(r"Teacher-leader 1 14 13", page)


# --- who may do what ----------------------------------------------------------------------------


def test_a_coordinator_is_confined_to_their_own_district(app: Flask, district, person) -> None:
    own, other = district(), district()
    coordinator = _client(app, person("coordinator", district=own))
    assert coordinator.get(f"/people/districts/{own.id}").status_code == 200
    assert coordinator.get("/people/").headers["Location"] == f"/people/districts/{own.id}"
    for url in (f"/people/districts/{other.id}", "/people/districts/999999", "/people/districts",
                "/people/accounts", "/people/outbox"):
        assert coordinator.get(url).status_code == 403, url

    stranger = person("teacher", district=other)
    mine = person("teacher", district=own)
    for url, user in ((f"/people/districts/{other.id}/enrol", stranger), (f"/people/districts/{own.id}/enrol", stranger),
                      (f"/people/districts/{other.id}/enrol", mine)):
        response = _post(coordinator, url, {"user_id": user.id, "pathway": "team"})
        assert response.status_code == 403, url
    with _db(app) as session:
        assert session.scalar(select(func.count()).select_from(Enrolment).where(
            Enrolment.user_id.in_([stranger.id, mine.id]))) == 0


@pytest.mark.parametrize("roles", [["assessor"], ["coordinator"], ["admin"], ["teacher", "assessor"]])
def test_a_coordinator_invites_only_teachers(app: Flask, district, person, roles: list[str]) -> None:
    place = district()
    coordinator = _client(app, person("coordinator", district=place))
    email = f"invitee{next(_numbers)}@people-tests.example"
    response = _post(coordinator, "/people/invite", {"email": email, "display_name": "Someone", "roles": roles,
                                                     "district_id": place.id})
    assert response.status_code == 403
    with _db(app) as session:
        assert session.scalar(select(Invitation).where(Invitation.email == email)) is None


def test_a_coordinator_invites_teachers_into_their_district_only(app: Flask, district, person) -> None:
    own, other = district(), district()
    coordinator = _client(app, person("coordinator", district=own))
    refused = f"elsewhere{next(_numbers)}@people-tests.example"
    response = _post(coordinator, "/people/invite", {"email": refused, "display_name": "Elsewhere",
                                                     "roles": "teacher", "district_id": other.id})
    assert response.status_code == 403
    email = f"teacher{next(_numbers)}@people-tests.example"
    response = _post(coordinator, "/people/invite", {"email": email, "display_name": "New Teacher", "roles": "teacher",
                                                     "district_id": own.id, "pathway": "team", "year": YEAR})
    notices = _notices(coordinator, response)
    assert any("Mail is not configured; the link is: http://127.0.0.1:5000/invitations/" in n for n in notices)
    with _db(app) as session:
        invitation = session.scalars(select(Invitation).where(Invitation.email.in_([email, refused]))).one()
    assert (invitation.email, invitation.roles, invitation.district_id, invitation.pathway) == (
        email, ["teacher"], own.id, "team")


@pytest.mark.parametrize("roles", [["teacher"], ["assessor"], ["licensure"]])
def test_people_pages_are_for_administrators_and_coordinators(app: Flask, person, roles: list[str]) -> None:
    client = _client(app, person(*roles))
    for url in ("/people/", "/people/districts", "/people/accounts", "/people/invite", "/people/outbox"):
        assert client.get(url).status_code == 403, url
    anonymous = app.test_client()
    response = anonymous.get("/people/districts")
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/login"


# --- invitations ------------------------------------------------------------------------------


def test_invitation_end_to_end_through_the_pages(app: Flask, district, person) -> None:
    place = district()
    admin = _client(app, person("admin"))
    email = f"Newcomer{next(_numbers)}@People-Tests.example"
    response = _post(admin, "/people/invite", {"email": email, "display_name": "New Comer", "roles": "teacher",
                                               "district_id": place.id, "pathway": "teacher-leader", "year": YEAR})
    email = email.lower()
    assert any(email in n for n in _notices(admin, response))
    outbox = _text(admin.get("/people/outbox"))
    path = _outbox_link(app, email, "invitation")
    assert path.startswith("/invitations/") and path in outbox

    newcomer = app.test_client()
    page = newcomer.get(path)
    assert page.status_code == 200 and email in _text(page)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    token = _csrf(newcomer, path)
    for password, confirm, message in (("short", "short", "at least 12 characters"),
                                       (email, email, "cannot be your email address"),
                                       (NEW_PASSWORD, NEW_PASSWORD + "x", "The two passwords differ")):
        response = newcomer.post(path, data={"csrf_token": token, "display_name": "New Comer",
                                             "password": password, "confirm": confirm})
        assert response.status_code == 400 and message in _alert(response)
    response = newcomer.post(path, data={"csrf_token": token, "display_name": "Nova Comer",
                                         "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert (response.status_code, response.headers["Location"]) == (302, "/")
    assert _signed_in(newcomer)

    with _db(app) as session:
        user = session.scalars(select(User).where(User.email == email)).one()
        enrolment = session.scalars(select(Enrolment).where(Enrolment.user_id == user.id)).one()
        invitation = session.scalars(select(Invitation).where(Invitation.email == email)).one()
    assert (user.display_name, user.roles, user.district_id, user.active) == ("Nova Comer", ["teacher"], place.id, True)
    assert user.password_hash.startswith("$argon2id$") and verify_password(user, NEW_PASSWORD)
    assert (enrolment.district_id, enrolment.pathway, enrolment.year) == (place.id, "teacher-leader", YEAR)
    assert invitation.accepted_at is not None and path.rsplit("/", 1)[1] not in invitation.token_hash

    assert app.test_client().get(path).status_code == 410  # used: gone
    again = _post(admin, "/people/invite", {"email": email, "display_name": "Again", "roles": "teacher"})
    assert again.status_code == 409 and "already has an account" in _alert(again)


def test_expired_unknown_and_replaced_invitation_links(app: Flask, person) -> None:
    admin = person("admin")
    settings = app.extensions["microcred"].settings
    email = f"late{next(_numbers)}@people-tests.example"
    with _db(app) as session:
        _first, first = invite(session, actor=session.get(User, admin.id), settings=settings, email=email,
                               display_name="Late", roles=["assessor"])
    with _db(app) as session:
        _second, second = invite(session, actor=session.get(User, admin.id), settings=settings, email=email,
                                 display_name="Late", roles=["assessor"])
    client = app.test_client()
    assert client.get(f"/invitations/{first}").status_code == 410  # replaced by the newer one
    assert client.get(f"/invitations/{second}").status_code == 200
    assert client.get(f"/invitations/{second[:-2]}xx").status_code == 404
    with _db(app) as session:
        session.get(Invitation, _second.id).expires_at = datetime.now(UTC) - timedelta(seconds=1)
    response = client.get(f"/invitations/{second}")
    assert response.status_code == 410 and "expired" in _text(response)
    with _db(app) as session, pytest.raises(LinkExpired):
        accept_invitation(session, second, password=NEW_PASSWORD, display_name="Late")


def test_accepting_an_invitation_is_cap_checked_again(app: Flask, district, person) -> None:
    place, admin = district(), person("admin")
    settings = app.extensions["microcred"].settings
    _teachers(app, place, 13, enrolled="teacher-leader")
    with _db(app) as session:
        _inv, token = invite(session, actor=session.get(User, admin.id), settings=settings,
                             email=f"late{next(_numbers)}@people-tests.example", display_name="Late",
                             roles=["teacher"], district=session.get(District, place.id),
                             pathway="teacher-leader", year=YEAR)
    _teachers(app, place, 1, enrolled="teacher-leader")  # the last place went meanwhile
    with _db(app) as session, pytest.raises(CapReached):
        accept_invitation(session, token, password=NEW_PASSWORD, display_name="Late")
    with _db(app) as session, pytest.raises(PasswordRejected):
        accept_invitation(session, token, password="too short", display_name="Late")
    assert app.test_client().get(f"/invitations/{token}").status_code == 200  # still usable once there is room


# --- password resets --------------------------------------------------------------------------


def test_password_reset_end_to_end_ends_old_sessions(app: Flask, person) -> None:
    user = person("admin")
    old_session = _client(app, user)
    assert old_session.get("/people/districts").status_code == 200
    for _ in range(3):  # some failed sign-ins, forgotten by the reset
        assert _sign_in(app.test_client(), user.email, "wrong password 123").status_code == 401

    visitor = app.test_client()
    assert "Forgot your password?" in _text(visitor.get("/login"))
    response = _post(visitor, "/reset", {"email": user.email.upper()})
    assert response.headers["Location"] == "/login"
    path = _outbox_link(app, user.email, "password_reset")
    assert path.startswith("/reset/")
    assert visitor.get(path).status_code == 200
    token = _csrf(visitor, path)
    mismatch = visitor.post(path, data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": "something else"})
    assert mismatch.status_code == 400 and "differ" in _alert(mismatch)
    response = visitor.post(path, data={"csrf_token": token, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert (response.status_code, response.headers["Location"]) == (302, "/login")

    assert old_session.get("/people/districts").status_code == 302  # signed out everywhere
    assert not _signed_in(old_session)
    with _db(app) as session:
        assert session.scalar(select(func.count()).select_from(LoginFailure)
                              .where(LoginFailure.key == f"account:{user.email}")) == 0
    assert _sign_in(app.test_client(), user.email).status_code == 401  # the old password no longer works
    assert _sign_in(app.test_client(), user.email, NEW_PASSWORD).status_code == 302
    assert visitor.get(path).status_code == 410  # single use


def test_reset_does_not_tell_who_has_an_account(app: Flask, person) -> None:
    known, gone = person("teacher"), person("teacher")
    with _db(app) as session:
        session.get(User, gone.id).active = False
    answers = []
    for email in (known.email, "nobody@people-tests.example", gone.email):
        client = app.test_client()
        response = _post(client, "/reset", {"email": email})
        answers.append((response.status_code, response.headers["Location"], _notices(client, response)))
    assert answers[0] == answers[1] == answers[2]
    assert "if the address has an account, a link" in " ".join(answers[0][2]).lower()
    assert not any("/reset/" in notice for notice in answers[0][2])  # never the link to an anonymous visitor
    with _db(app) as session:
        sent_to = session.scalars(select(OutboxMessage.to_address).where(OutboxMessage.kind == "password_reset",
                                  OutboxMessage.to_address.in_([known.email, gone.email,
                                                                "nobody@people-tests.example"]))).all()
    assert sent_to == [known.email]


def test_expired_reset_link_is_refused(app: Flask, person) -> None:
    user = person("teacher")
    client = app.test_client()
    _post(client, "/reset", {"email": user.email})
    path = _outbox_link(app, user.email, "password_reset")
    from issuer.models import PasswordReset

    with _db(app) as session:
        for reset in session.scalars(select(PasswordReset).where(PasswordReset.user_id == user.id)):
            reset.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    assert client.get(path).status_code == 410
    assert client.get("/reset/not-a-real-token").status_code == 404


# --- account administration -------------------------------------------------------------------


def test_a_deactivated_account_cannot_sign_in(app: Flask, person) -> None:
    admin, user = _client(app, person("admin")), person("teacher")
    signed_in = _client(app, user)
    response = _post(admin, f"/people/accounts/{user.id}/active", {"active": "0"})
    assert response.status_code == 302
    assert signed_in.get("/people/").status_code == 302 and not _signed_in(signed_in)  # its session ended
    refused = _sign_in(app.test_client(), user.email)
    assert refused.status_code == 401 and _alert(refused) == LOGIN_FAILED
    _post(admin, f"/people/accounts/{user.id}/active", {"active": "1"})
    assert _sign_in(app.test_client(), user.email).status_code == 302
    with _db(app) as session:
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.subject == f"user:{user.email}")
                                  .order_by(AuditEvent.id)).all()
    assert actions == ["person.deactivated", "person.reactivated"]


def test_an_administrator_cannot_demote_or_deactivate_themselves(app: Flask, person) -> None:
    me = person("admin")
    admin = _client(app, me)
    response = _post(admin, f"/people/accounts/{me.id}", {"roles": ["teacher"], "district_id": 0})
    assert response.status_code == 409 and "your own administrator role" in _alert(response)
    response = _post(admin, f"/people/accounts/{me.id}/active", {"active": "0"})
    assert response.status_code == 409 and "your own account" in _text(response)
    with _db(app) as session:
        mine = session.get(User, me.id)
        assert (mine.roles, mine.active) == (["admin"], True)
    assert admin.get("/people/accounts").status_code == 200


def test_an_administrator_changes_roles_and_district(app: Flask, district, person) -> None:
    place = district()
    admin, other = _client(app, person("admin")), person("teacher")
    response = _post(admin, f"/people/accounts/{other.id}", {"roles": ["coordinator"], "district_id": 0})
    assert response.status_code == 400 and "needs a district" in _alert(response)
    response = _post(admin, "/people/invite", {"email": f"c{next(_numbers)}@people-tests.example",
                                               "display_name": "Coordinator", "roles": "coordinator"})
    assert response.status_code == 400 and "needs a district" in _alert(response)
    response = _post(admin, f"/people/accounts/{other.id}", {"roles": ["teacher", "coordinator"],
                                                             "district_id": place.id})
    assert response.status_code == 302
    with _db(app) as session:
        changed = session.get(User, other.id)
        assert (changed.roles, changed.district_id) == (["teacher", "coordinator"], place.id)
    assert _client(app, other).get(f"/people/districts/{place.id}").status_code == 200


def test_districts_are_validated_and_unique(app: Flask, person) -> None:
    admin_account = person("admin")
    admin = _client(app, admin_account)
    code = f"U{next(_numbers)}"
    assert _post(admin, "/people/districts", {"name": f"Unique {code}", "code": code.lower()}).status_code == 302
    duplicate = _post(admin, "/people/districts", {"name": f"unique {code}", "code": "OTHER"})
    assert duplicate.status_code == 409 and "already a district" in _alert(duplicate)
    bad = _post(admin, "/people/districts", {"name": "Bad Code", "code": "no spaces please"})
    assert bad.status_code == 400
    with _db(app) as session:
        assert session.scalar(select(District.code).where(District.name == f"Unique {code}")) == code
        with pytest.raises(PeopleError):
            create_district(session, name="", code="X", actor=session.get(User, admin_account.id))


def test_with_mail_configured_links_are_neither_shown_nor_logged(app_config: dict[str, Any], person,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    configured = create_app({**app_config, "smtp_url": "smtp://127.0.0.1:9"})  # same instance and database
    try:
        admin = configured.test_client()
        assert _sign_in(admin, person("admin").email).status_code == 302
        email = f"quiet{next(_numbers)}@people-tests.example"
        with caplog.at_level("INFO", logger="issuer.mail"):
            response = _post(admin, "/people/invite", {"email": email, "display_name": "Quiet", "roles": "assessor"})
        notices = _notices(admin, response)
        outbox = admin.get("/people/outbox").get_data(as_text=True)
    finally:
        configured.extensions["microcred"].database.dispose()
    assert not any("/invitations/" in n for n in notices)
    assert "/invitations/" not in outbox
    assert f"mail to {email}: " in caplog.text and "/invitations/" not in caplog.text


# --- the demo ---------------------------------------------------------------------------------


def test_init_demo_creates_districts_and_places_the_demo_people(app: Flask) -> None:
    for _ in range(2):  # idempotent
        result = app.test_cli_runner().invoke(args=["init", "--demo"])
        assert result.exit_code == 0, result.output
        assert "Maple County Schools (MCS)" in result.output
        with _db(app) as session:
            users = {u.email: u for u in session.scalars(select(User).where(
                User.email.in_([e for e, _n, _r in DEMO_ACCOUNTS])))}
            codes = {d.id: d.code for d in session.scalars(select(District).where(District.code.in_(["MCS", "RCS"])))}
            teacher = users["teacher@demo.microcred.test"]
            enrolments = session.scalars(select(Enrolment).where(Enrolment.user_id == teacher.id)).all()
        assert sorted(codes.values()) == ["MCS", "RCS"]
        assert codes[users["coordinator@demo.microcred.test"].district_id] == "MCS"
        assert codes[teacher.district_id] == "MCS"
        assert codes[users["assessor@demo.microcred.test"].district_id] == "RCS"
        assert [(codes[e.district_id], e.pathway, e.year) for e in enrolments] == [("MCS", "team", YEAR)]


def test_every_people_form_needs_its_csrf_token(app: Flask, district, person) -> None:
    place, target = district(), person("teacher")
    admin = _client(app, person("admin"))
    for url, data in (("/people/districts", {"name": "No Token", "code": "NOTOKEN"}),
                      ("/people/invite", {"email": "t@people-tests.example", "display_name": "T", "roles": "teacher"}),
                      (f"/people/accounts/{target.id}", {"roles": ["admin"]}),
                      (f"/people/accounts/{target.id}/active", {"active": "0"}),
                      (f"/people/accounts/{target.id}/reset", {}),
                      (f"/people/districts/{place.id}/enrol", {"user_id": target.id, "pathway": "team"}),
                      ("/reset", {"email": target.email})):
        for token in ({}, {"csrf_token": "forged"}):
            assert admin.post(url, data={**data, **token}).status_code == 400, url
    with _db(app) as session:
        unchanged = session.get(User, target.id)
        assert (unchanged.roles, unchanged.active) == (["teacher"], True)
        assert session.scalar(select(District).where(District.code == "NOTOKEN")) is None
        assert session.scalar(select(OutboxMessage).where(OutboxMessage.to_address == target.email)) is None
