"""The assessor's pages through the real app, with real CSRF tokens.

Submissions are made through issuer.workflow.submissions (start, save every part, upload real small files,
submit) by teachers enrolled for this programme year. One initialised instance serves the module;
apps with other settings (blind_review, assessor_own_district) open the same instance and database.
Tests stay apart by each making its own teachers and submissions.
"""

from __future__ import annotations

import html
import io
import itertools
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import func, select

from issuer import create_app
from issuer.credentials.evidence import digest_sri, ni_uri
from issuer.models import Attempt, Credential, District, Enrolment, Judgement, OutboxMessage, Submission, User
from issuer.people.accounts import hash_password
from issuer.people.districts import programme_year
from issuer.workflow import submissions
from issuer.workflow.submissions import now_utc
from verifier import verify_credential

from app_support import clean_environment, initialised_app, module_config

PASSWORD = "correct horse battery staple"
SLUG = "questioning-higher-order"  # criteria: context, question-plan, questioning-in-class, impact
CRITERIA = ("context", "question-plan", "questioning-in-class", "impact")
TEACHER_NAME = "Zelda Quornfeather"  # never on a blind page; unlike anything else on them
HOME = "Quornshire County Schools"
AWAY = "Otherton City Schools"
_serial = itertools.count(1)


# --- one initialised instance for the module ---------------------------------------------------



@pytest.fixture(scope="module")
def variant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Flask]]:
    """variant(**settings) -> an app on the module's one instance (initialised once)."""
    apps: dict[tuple, Flask] = {}
    with clean_environment():
        base = module_config(tmp_path_factory, "assessor-pages")
        apps[()] = initialised_app(base)

        def make(**overrides: Any) -> Flask:
            key = tuple(sorted(overrides.items()))
            if key not in apps:
                apps[key] = create_app({**base, **overrides})
            return apps[key]

        yield make
    for application in apps.values():
        application.extensions["microcred"].database.dispose()


@pytest.fixture(scope="module")
def app(variant: Callable[..., Flask]) -> Flask:
    """Default settings: blind review, assessors may review their own district."""
    return variant()


@pytest.fixture(scope="module")
def people(app: Flask) -> dict[str, Any]:
    """Two districts and the signing-in accounts (one password hash: argon2 is slow on purpose)."""
    digest = hash_password(PASSWORD)
    with _db(app) as session:
        home, away = District(name=HOME, code="QCS"), District(name=AWAY, code="OCS")
        session.add_all([home, away])
        session.flush()
        accounts = {
            "assessor_home": User(email="ada.home@assessors.example", display_name="Ada Assessor",
                                  roles=["assessor"], district_id=home.id, password_hash=digest),
            "assessor_away": User(email="ben.away@assessors.example", display_name="Ben Assessor",
                                  roles=["assessor"], district_id=away.id, password_hash=digest),
            "teacher": User(email="tess.teacher@teachers.example", display_name="Tess Teacher", roles=["teacher"],
                            district_id=home.id, password_hash=digest),
            "coordinator": User(email="cora.coord@coordinators.example", display_name="Cora Coordinator",
                                roles=["coordinator"], district_id=home.id, password_hash=digest),
        }
        session.add_all(accounts.values())
        session.flush()
        return {"home": home.id, "away": away.id, **{name: user.email for name, user in accounts.items()}}


@pytest.fixture(scope="module")
def signed_in(people: dict[str, Any]) -> Callable[[Flask, str], FlaskClient]:
    """signed_in(app, account name) -> a client of that app signed in as that account (cached)."""
    clients: dict[tuple[int, str], FlaskClient] = {}

    def get(application: Flask, name: str) -> FlaskClient:
        key = (id(application), name)
        if key not in clients:
            client = application.test_client()
            _sign_in(client, people[name] if name in people else name)
            clients[key] = client
        return clients[key]

    return get


# --- helpers ------------------------------------------------------------------------------------


def _db(app: Flask):
    return app.extensions["microcred"].database.transaction()


def _csrf(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    tag = re.search(r'<input[^>]*name="csrf_token"[^>]*>', page).group(0)
    return re.search(r'value="([^"]+)"', tag).group(1)


def _sign_in(client: FlaskClient, email: str) -> None:
    response = client.post("/login", data={"csrf_token": _csrf(client), "email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def _teacher(app: Flask, district_id: int, *, roles: tuple[str, ...] = ("teacher",), password: bool = False,
             name: str = TEACHER_NAME) -> tuple[int, str]:
    """A teacher enrolled in the TEAM pathway this programme year: (user id, email)."""
    n = next(_serial)
    email = f"zelda.quornfeather.{n}@teachers.example"
    with _db(app) as session:
        user = User(email=email, display_name=name, roles=list(roles), district_id=district_id,
                    password_hash=hash_password(PASSWORD) if password else None)
        session.add(user)
        session.flush()
        session.add(Enrolment(user_id=user.id, district_id=district_id, pathway="team",
                              year=programme_year(date.today()), created_by="tests"))
        return user.id, email


def _file_bytes(ext: str, marker: str) -> bytes:
    if ext == "pdf":
        return b"%PDF-1.4\n% " + marker.encode() + b"\n%%EOF\n"
    if ext == "png":
        out = io.BytesIO()
        Image.new("RGB", (8, 8), (hash(marker) % 256, 90, 160)).save(out, "PNG", pnginfo=None)
        return out.getvalue() + marker.encode()  # trailing bytes keep each file distinct
    if ext == "docx":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("[Content_Types].xml", "<Types/>")
            archive.writestr("word/document.xml", f"<document>{marker}</document>")
        return out.getvalue()
    raise AssertionError(ext)


def _submit(app: Flask, teacher_id: int, slug: str = SLUG, *, days_ago: int = 0,
            prefer: tuple[str, ...] = ("pdf", "docx")) -> dict[str, Any]:
    """Start, fill every part, upload the fewest files allowed, submit (dated `days_ago`).

    Returns the submission id and what went in: answer texts and file markers (never to be in a
    credential) and the files' SHA-256 digests."""
    rt = app.extensions["microcred"]
    made: dict[str, Any] = {"answers": [], "markers": [], "sha256": []}
    with rt.database.transaction() as session:
        teacher = session.get(User, teacher_id)
        work = submissions.start(session, teacher=teacher, slug=slug, limit=10)
        for part in work.badge.parts:
            answers = [f"Answer-{part.id}-{i}-{next(_serial)} about the fractions lesson."
                       for i in range(len(part.questions))]
            made["answers"] += answers
            links = ["https://video.example.org/lesson-42"] if part.artifacts else []
            submissions.save_part(session, work, teacher=teacher, part_id=part.id, answers=answers, links=links,
                                  revision=work.submission.revision)
            for j, artifact in enumerate(part.artifacts):
                ext = next((e for e in prefer if e in artifact.file_types), artifact.file_types[0])
                for k in range(artifact.min_files):
                    marker = f"FILE-CONTENT-{next(_serial)}"
                    made["markers"].append(marker)
                    row = submissions.add_file(session, work, teacher=teacher, part_id=part.id, artifact_index=j,
                                               stream=io.BytesIO(_file_bytes(ext, marker)),
                                               filename=f"evidence-{j}-{k}.{ext}", revision=work.submission.revision,
                                               max_bytes=10**6, uploads_dir=rt.settings.uploads_dir)
                    made["sha256"].append(row.sha256)
        submissions.submit(session, work, teacher=teacher, revision=work.submission.revision,
                           now=now_utc() - timedelta(days=days_ago, minutes=1))
        made["id"], made["revision"] = work.submission.id, work.submission.revision
    return made


class _Forms(HTMLParser):
    """What each form on a page would submit: checked radios, textarea text, hidden and text inputs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, dict[str, list[str]]]] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append((a.get("action") or "", {}))
        elif self.forms and tag == "input" and a.get("name"):
            if a.get("type") in ("radio", "checkbox") and "checked" not in a:
                return
            self.forms[-1][1].setdefault(a["name"], []).append(a.get("value") or "")
        elif self.forms and tag == "textarea":
            self._textarea, self._text = a["name"], []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self.forms[-1][1].setdefault(self._textarea, []).append("".join(self._text))
            self._textarea = None


def _decision_form(page: str, submission_id: int) -> dict[str, list[str]]:
    parser = _Forms()
    parser.feed(page)
    found = [fields for action, fields in parser.forms if action == f"/review/{submission_id}/decide"]
    assert len(found) == 1, [action for action, _ in parser.forms]
    return found[0]


def _decision(client: FlaskClient, submission_id: int, *, levels: dict[str, str], decision: str,
              feedback: dict[str, str] | None = None, overall: str = "") -> dict[str, Any]:
    """The review page's form filled in as an assessor would (with its CSRF token and revision)."""
    page = client.get(f"/review/{submission_id}")
    assert page.status_code == 200
    fields: dict[str, Any] = {k: v for k, v in _decision_form(page.get_data(as_text=True), submission_id).items()}
    fields.update({f"level-{cid}": level for cid, level in levels.items()})
    fields.update({f"feedback-{cid}": text for cid, text in (feedback or {}).items()})
    fields.update(overall=overall, decision=decision)
    return fields


def _queue_ids(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/review/(\d+)"', page)]


def _recorded(app: Flask, submission_id: int) -> tuple:
    """What a decision would change: state, revision, judgements, credentials, decision mail."""
    with _db(app) as session:
        sub = session.get(Submission, submission_id)
        judgements = session.scalar(select(func.count()).select_from(Judgement).join(Attempt)
                                    .where(Attempt.submission_id == submission_id))
        credentials = session.scalar(select(func.count()).select_from(Credential)
                                     .where(Credential.submission_id == submission_id))
        teacher = session.get(User, sub.user_id)
        mail = session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.to_address == teacher.email, OutboxMessage.kind == "decision"))
        return sub.state, sub.revision, judgements, credentials, mail


def _identity_absent(page: str, email: str) -> None:
    for secret in (TEACHER_NAME, email, HOME, AWAY, "zelda", "quorn"):
        assert secret.lower() not in page.lower(), secret


ALL_PASS = dict.fromkeys(CRITERIA, "Demonstrated")


# --- the queue ------------------------------------------------------------------------------------


def test_queue_is_oldest_first_with_filters(variant: Callable[..., Flask], people: dict[str, Any],
                                            signed_in: Callable[[Flask, str], FlaskClient]) -> None:
    app = variant()
    newer = _submit(app, _teacher(app, people["home"])[0], days_ago=2)["id"]
    oldest = _submit(app, _teacher(app, people["away"])[0], days_ago=10)["id"]
    other_class = _submit(app, _teacher(app, people["home"])[0], "questioning-hinge-questions", days_ago=5)["id"]
    mine = [oldest, other_class, newer]
    client = signed_in(app, "assessor_away")

    page = client.get("/review/").get_data(as_text=True)
    assert 'href="/review/"' in page and "Review queue" in page  # the header link for assessors
    assert [i for i in _queue_ids(page) if i in mine] == mine
    text = html.unescape(re.sub(r"<[^>]*>", " ", page))
    assert "10 days ago" in text and "5 days ago" in text and "2 days ago" in text

    by_class = _queue_ids(client.get(f"/review/?badge={SLUG}").get_data(as_text=True))
    assert oldest in by_class and newer in by_class and other_class not in by_class
    older = _queue_ids(client.get("/review/?older=7").get_data(as_text=True))
    assert oldest in older and newer not in older and other_class not in older
    nothing = client.get("/review/?badge=leader-family-partnership").get_data(as_text=True)
    assert _queue_ids(nothing) == [] and "No submission matches these filters." in nothing
    assert client.get("/review/?older=soon&badge=").status_code == 200  # a bad value is ignored

    # Blind: no district filter, and a district argument is ignored.
    assert 'name="district"' not in page
    assert newer in _queue_ids(client.get(f"/review/?district={people['away']}").get_data(as_text=True))

    seeing = signed_in(variant(blind_review=False), "assessor_away")
    open_page = seeing.get("/review/").get_data(as_text=True)
    assert 'name="district"' in open_page and HOME in open_page and AWAY in open_page
    away_only = _queue_ids(seeing.get(f"/review/?district={people['away']}").get_data(as_text=True))
    assert oldest in away_only and newer not in away_only and other_class not in away_only


def test_empty_queue_says_so(make_app: Callable[..., Flask]) -> None:
    """A fresh instance where real work exists but none of it is this assessor's to judge: their own
    submitted work, a colleague's from their own district (excluded by the setting) and a draft."""
    fresh = make_app(assessor_own_district=False)
    with _db(fresh) as session:
        place = District(name=HOME, code="QCS")
        session.add(place)
        session.flush()
        district = place.id
    assessor_id, assessor_email = _teacher(fresh, district, roles=("teacher", "assessor"), password=True)
    _submit(fresh, assessor_id)
    colleague_id, _ = _teacher(fresh, district)
    _submit(fresh, colleague_id)
    drafter_id, _ = _teacher(fresh, district)
    with _db(fresh) as session:
        submissions.start(session, teacher=session.get(User, drafter_id), slug=SLUG, limit=10)
        waiting = session.scalar(select(func.count()).select_from(Submission).where(Submission.state == "submitted"))
    assert waiting == 2
    client = fresh.test_client()
    _sign_in(client, assessor_email)
    page = client.get("/review/").get_data(as_text=True)
    assert "Nothing is waiting for review: the queue is empty." in page and "<table" not in page


def test_drafts_and_unknown_submissions_show_nothing(app: Flask, people: dict[str, Any],
                                                     signed_in: Callable[[Flask, str], FlaskClient]) -> None:
    teacher_id, email = _teacher(app, people["home"])
    with _db(app) as session:
        work = submissions.start(session, teacher=session.get(User, teacher_id), slug=SLUG, limit=10)
        submissions.save_part(session, work, teacher=session.get(User, teacher_id), part_id="overview",
                              answers=["A private draft.", "", ""], links=[], revision=work.submission.revision)
        draft = work.submission.id
    client = signed_in(app, "assessor_away")
    response = client.get(f"/review/{draft}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "not awaiting review" in page
    assert "A private draft." not in page and "/decide" not in page
    _identity_absent(page, email)
    assert draft not in _queue_ids(client.get("/review/").get_data(as_text=True))
    assert client.get("/review/999999").status_code == 404


# --- blind review and who may review ---------------------------------------------------------------


def test_blind_review_hides_the_teacher_until_the_decision(variant: Callable[..., Flask], people: dict[str, Any],
                                                           signed_in: Callable[[Flask, str], FlaskClient]) -> None:
    app = variant()
    teacher_id, email = _teacher(app, people["home"])
    made = _submit(app, teacher_id)
    client = signed_in(app, "assessor_away")

    queue = client.get("/review/").get_data(as_text=True)
    assert made["id"] in _queue_ids(queue)
    _identity_absent(queue, email)
    page = client.get(f"/review/{made['id']}").get_data(as_text=True)
    _identity_absent(page, email)
    assert "Blind review" in page
    for answer in made["answers"]:  # the work itself is all there
        assert answer in page

    seeing = signed_in(variant(blind_review=False), "assessor_away")
    open_page = seeing.get(f"/review/{made['id']}").get_data(as_text=True)
    assert TEACHER_NAME in open_page and email in open_page and HOME in open_page

    fields = _decision(client, made["id"], levels={**ALL_PASS, "impact": "Progressing"}, decision="not_yet",
                       feedback={"impact": "Quote two students' answers."})
    response = client.post(f"/review/{made['id']}/decide", data=fields)
    assert (response.status_code, response.headers["Location"]) == (302, f"/review/{made['id']}")
    decided = client.get(f"/review/{made['id']}").get_data(as_text=True)
    assert TEACHER_NAME in decided and email in decided and HOME in decided


def test_evidence_is_shown_beside_the_rubric_with_file_previews(app: Flask, people: dict[str, Any],
                                                                signed_in: Callable[[Flask, str], FlaskClient]) -> None:
    made = _submit(app, _teacher(app, people["home"])[0], "feedback-guided-practice", prefer=("png", "pdf", "docx"))
    page = signed_in(app, "assessor_away").get(f"/review/{made['id']}").get_data(as_text=True)
    with _db(app) as session:
        files = session.scalars(select(Submission).where(Submission.id == made["id"])).one().files
        rows = [(f.id, f.filename, f.media_type) for f in files]
    assert any(t == "image/png" for _, _, t in rows) and any(t == "application/pdf" for _, _, t in rows)
    for file_id, name, media_type in rows:
        assert f'<a href="/my/files/{file_id}">{name}</a>' in page
        if media_type == "image/png":
            assert re.search(rf'<img class="evidence-preview" src="/my/files/{file_id}" alt="Preview of {name}"', page)
    assert "https://video.example.org/lesson-42" in page
    form = _decision_form(page, made["id"])
    assert set(form) == {"csrf_token", "revision"} | {f"feedback-{c}" for c in _criteria(app, made["id"])} | {"overall"}
    assert form["revision"] == [str(made["revision"])]
    for crit in _criteria(app, made["id"]):  # a fieldset per criterion, a labelled radio per level
        assert re.search(rf'<input type="radio" id="level-{crit}" name="level-{crit}"', page)
        assert f'<label for="level-{crit}">' in page and f'<label for="feedback-{crit}"' in page
    assert page.count("<fieldset class=\"criterion\"") == len(_criteria(app, made["id"]))
    assert page.count("<legend>") == len(_criteria(app, made["id"])) + 1  # and the decision's


def _criteria(app: Flask, submission_id: int) -> list[str]:
    with _db(app) as session:
        work = submissions.load(session, submission_id)
        return [c.id for c in work.badge.criteria]


def test_own_work_is_refused(app: Flask, people: dict[str, Any],
                             signed_in: Callable[[Flask, str], FlaskClient]) -> None:
    teacher_id, email = _teacher(app, people["away"], roles=("teacher", "assessor"), password=True,
                                 name="Olga Ownwork")
    made = _submit(app, teacher_id)
    client = signed_in(app, email)
    assert made["id"] not in _queue_ids(client.get("/review/").get_data(as_text=True))
    response = client.get(f"/review/{made['id']}")
    assert response.status_code == 403 and "your own work" in response.get_data(as_text=True)
    before = _recorded(app, made["id"])
    post = client.post(f"/review/{made['id']}/decide", data={"csrf_token": _csrf(client), "revision": made["revision"],
                                                             "decision": "earned", **_levels(ALL_PASS)})
    assert post.status_code == 403
    assert _recorded(app, made["id"]) == before


def _levels(levels: dict[str, str]) -> dict[str, str]:
    return {f"level-{cid}": level for cid, level in levels.items()}


def test_own_district_can_be_excluded(variant: Callable[..., Flask], people: dict[str, Any],
                                      signed_in: Callable[[Flask, str], FlaskClient]) -> None:
    strict = variant(assessor_own_district=False)
    made = _submit(strict, _teacher(strict, people["home"])[0])
    same, other = signed_in(strict, "assessor_home"), signed_in(strict, "assessor_away")
    assert made["id"] not in _queue_ids(same.get("/review/").get_data(as_text=True))
    assert same.get(f"/review/{made['id']}").status_code == 403
    assert same.post(f"/review/{made['id']}/decide",
                     data={"csrf_token": _csrf(same), "revision": made["revision"], "decision": "earned",
                           **_levels(ALL_PASS)}).status_code == 403
    assert _recorded(strict, made["id"])[:3] == ("submitted", made["revision"], 0)
    assert made["id"] in _queue_ids(other.get("/review/").get_data(as_text=True))
    assert other.get(f"/review/{made['id']}").status_code == 200
    # With the default setting the same assessor may review their own district.
    assert signed_in(variant(), "assessor_home").get(f"/review/{made['id']}").status_code == 200


# --- the decision ----------------------------------------------------------------------------------


INVALID = [
    pytest.param({k: v for k, v in ALL_PASS.items() if k != "impact"}, "earned", {}, "level-impact",
                 "Choose a level for “Reflection on student thinking”.", id="missing-level"),
    pytest.param({**ALL_PASS, "question-plan": "Progressing"}, "earned", {"question-plan": "More labels."},
                 "decision", "Earned needs every criterion at “Demonstrated”", id="earned-below-passing"),
    pytest.param({**ALL_PASS, "question-plan": "Progressing"}, "not_yet", {"context": "Fine as it is."},
                 "feedback-question-plan", "Give feedback on “Planned higher-order questions”",
                 id="not-yet-without-feedback"),
    pytest.param(ALL_PASS, "not_yet", {"impact": "Could go deeper."}, "decision",
                 "Every criterion is at “Demonstrated”, so the work is earned", id="not-yet-all-passing"),
]


@pytest.fixture(scope="module")
def pending(app: Flask, people: dict[str, Any]) -> dict[str, Any]:
    """A submission only ever refused (each invalid decision leaves it as it was)."""
    return _submit(app, _teacher(app, people["home"])[0])


@pytest.mark.parametrize(("levels", "decision", "feedback", "field", "message"), INVALID)
def test_invalid_decision_is_400_keeps_the_input_and_records_nothing(
        app: Flask, signed_in: Callable[[Flask, str], FlaskClient], pending: dict[str, Any], levels: dict[str, str],
        decision: str, feedback: dict[str, str], field: str, message: str) -> None:
    client = signed_in(app, "assessor_away")
    sub_id = pending["id"]
    before = _recorded(app, sub_id)
    assert before[:4] == ("submitted", pending["revision"], 0, 0)
    fields = _decision(client, sub_id, levels=levels, decision=decision, feedback=feedback,
                       overall="Overall: a thoughtful lesson <b>plan</b> & more.")
    response = client.post(f"/review/{sub_id}/decide", data=fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    summary = re.search(r'<div class="alert alert-error error-summary" role="alert".*?</div>', page, re.S).group(0)
    assert f'<a href="#{field}">' in summary and message in html.unescape(summary)
    assert re.search(rf'\sid="{field}"', page)  # the summary's link lands on the field
    assert f'id="{field}-error"' in page  # and the message is beside it too
    kept = _decision_form(page, sub_id)
    for cid in CRITERIA:
        assert kept.get(f"level-{cid}") == ([levels[cid]] if cid in levels else None), cid
        assert kept[f"feedback-{cid}"] == [feedback.get(cid, "")]
    assert kept["overall"] == ["Overall: a thoughtful lesson <b>plan</b> & more."]
    assert kept["decision"] == [decision]
    assert _recorded(app, sub_id) == before


def test_not_yet_stores_judgements_mails_the_teacher_and_shows_history_on_resubmission(
        app: Flask, people: dict[str, Any], signed_in: Callable[[Flask, str], FlaskClient]) -> None:
    teacher_id, email = _teacher(app, people["home"])
    made = _submit(app, teacher_id)
    client = signed_in(app, "assessor_away")
    fields = _decision(client, made["id"], levels={**ALL_PASS, "impact": "Not yet demonstrated"}, decision="not_yet",
                       feedback={"impact": "Analyse two students' answers.", "context": "Clear context."},
                       overall="A strong start; the reflection needs evidence.")
    response = client.post(f"/review/{made['id']}/decide", data=fields)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "feedback was sent to the teacher" in page and "Not yet earned" in page

    with _db(app) as session:
        sub = session.get(Submission, made["id"])
        attempt = sub.attempts[-1]
        assert (sub.state, attempt.decision, attempt.feedback) == (
            "not_yet", "not_yet", "A strong start; the reflection needs evidence.")
        assert {(j.criterion_id, j.level, j.feedback) for j in attempt.judgements} == {
            ("context", "Demonstrated", "Clear context."), ("question-plan", "Demonstrated", ""),
            ("questioning-in-class", "Demonstrated", ""), ("impact", "Not yet demonstrated",
                                                            "Analyse two students' answers.")}
        mail = session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == email,
                                                           OutboxMessage.kind == "decision")).all()
        assert len(mail) == 1 and "not yet" in mail[0].subject.lower()
        # The feedback survey of exactly this attempt is offered with the decision.
        assert f"/my/surveys/attempts/{attempt.id}" in mail[0].body
        assert session.scalar(select(func.count()).select_from(Credential)
                              .where(Credential.submission_id == made["id"])) == 0

        # The teacher revises the reflection and resubmits: attempt 2, blind again, with the history.
        teacher = session.get(User, teacher_id)
        work = submissions.load(session, made["id"])
        reflection = next(p for p in work.badge.parts if p.id == "reflection")
        submissions.save_part(session, work, teacher=teacher, part_id="reflection",
                              answers=["Revised with two quoted answers."] * len(reflection.questions), links=[],
                              revision=sub.revision)
        submissions.submit(session, work, teacher=teacher, revision=sub.revision)

    page = client.get(f"/review/{made['id']}").get_data(as_text=True)
    _identity_absent(page, email)
    assert "Earlier attempts" in page and "Attempt 1: Not yet earned" in page
    assert "Analyse two students&#39; answers." in page and "2 (resubmission)" in page
    assert "Revised with two quoted answers." in page
    assert _decision_form(page, made["id"])["revision"] == [str(_recorded(app, made["id"])[1])]


def test_earned_issues_exactly_one_verifiable_credential_with_private_evidence(
        app: Flask, people: dict[str, Any], signed_in: Callable[[Flask, str], FlaskClient]) -> None:
    teacher_id, email = _teacher(app, people["home"])
    made = _submit(app, teacher_id)
    client = signed_in(app, "assessor_away")
    fields = _decision(client, made["id"], levels=ALL_PASS, decision="earned", overall="Excellent questioning.")
    response = client.post(f"/review/{made['id']}/decide", data=fields)
    assert response.status_code == 302

    rt = app.extensions["microcred"]
    with _db(app) as session:
        rows = session.scalars(select(Credential).where(Credential.submission_id == made["id"])).all()
        assert len(rows) == 1
        credential = rows[0]
        assert session.get(Submission, made["id"]).state == "earned"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'href="/credentials/{credential.public_id}"' in page and "credential was issued" in page
    assert TEACHER_NAME in page and email in page  # decided: no longer blind

    document = json.loads(credential.document)
    report = verify_credential(document, documents=rt.identity().documents)
    assert report.verified, [c for c in report.checks if not c.ok]
    ids = {e["id"] for e in document["evidence"]}
    sris = {e.get("digestSRI") for e in document["evidence"]}
    for digest in made["sha256"]:
        assert ni_uri(digest) in ids and digest_sri(digest) in sris
    for secret in made["answers"] + made["markers"] + ["FILE-CONTENT", "%PDF"]:
        assert secret not in credential.document
    achievement = document["credentialSubject"]["achievement"]
    descriptions = {d["id"]: d for d in achievement["resultDescription"]}
    results = document["credentialSubject"]["result"]
    assert len(results) == len(CRITERIA) + 1
    for result in results:
        described = descriptions[result["resultDescription"]]
        if "achievedLevel" in result:
            assert result["achievedLevel"] in {lvl["id"] for lvl in described["rubricCriterionLevel"]}

    # A double click (the same form again) is refused and records nothing twice.
    before = _recorded(app, made["id"])
    again = client.post(f"/review/{made['id']}/decide", data=fields)
    assert again.status_code == 409
    body = again.get_data(as_text=True)
    assert "already decided" in body and '<a href="/review/">Back to the review queue</a>' in body
    assert _recorded(app, made["id"]) == before
    assert before[3:] == (1, 1)  # one credential, one decision mail


# --- who may use these pages -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["teacher", "coordinator"])
def test_other_roles_are_refused(app: Flask, people: dict[str, Any], pending: dict[str, Any],
                                 signed_in: Callable[[Flask, str], FlaskClient], role: str) -> None:
    client = signed_in(app, role)
    for url in ("/review/", f"/review/{pending['id']}"):
        assert client.get(url).status_code == 403, url
    before = _recorded(app, pending["id"])
    post = client.post(f"/review/{pending['id']}/decide",
                       data={"csrf_token": _csrf(client), "revision": pending["revision"], "decision": "earned",
                             **_levels(ALL_PASS)})
    assert post.status_code == 403
    assert _recorded(app, pending["id"]) == before


def test_anonymous_is_sent_to_sign_in(app: Flask, pending: dict[str, Any]) -> None:
    client = app.test_client()
    for url in ("/review/", f"/review/{pending['id']}", "/review/?badge=x"):
        response = client.get(url)
        location = urlsplit(response.headers["Location"])
        assert (response.status_code, location.path) == (302, "/login")
        assert parse_qs(location.query)["next"] == [url]


def test_forged_csrf_or_a_broken_form_is_400_and_records_nothing(app: Flask, pending: dict[str, Any],
                                                signed_in: Callable[[Flask, str], FlaskClient]) -> None:
    client = signed_in(app, "assessor_away")
    fields = _decision(client, pending["id"], levels=ALL_PASS, decision="earned")
    before = _recorded(app, pending["id"])
    no_revision = client.post(f"/review/{pending['id']}/decide", data={**fields, "revision": "seven"})
    assert no_revision.status_code == 400 and "reload the submission" in no_revision.get_data(as_text=True)
    for token in (["forged"], []):
        response = client.post(f"/review/{pending['id']}/decide", data={**fields, "csrf_token": token})
        assert response.status_code == 400
    assert _recorded(app, pending["id"]) == before
