"""The teacher's pages (/my) and the credential page through the real app, real CSRF, real uploads.

One initialised app for the module (max_upload_mb=1, so both upload limits are cheap to trip);
every test signs in its own freshly enrolled teacher, so tests stay apart.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from issuer.models import Attempt, Credential, District, Enrolment, Submission, SubmissionFile, User
from issuer.people.accounts import hash_password
from issuer.people.districts import programme_year
from issuer.workflow.reviews import decide

from app_support import clean_environment, initialised_app, module_config

PASSWORD = "correct horse battery staple"
SLUG = "questioning-higher-order"  # artifacts: a lesson plan (pdf, docx), a video or transcript (mp4, mov, pdf, docx)
OTHERS = ["questioning-hinge-questions", "questioning-socratic-discussion", "questioning-wait-time-equity"]
LEADER = "leader-peer-coaching-cycle"  # the teacher-leader pathway
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
MiB = 1024 * 1024


# --- one initialised app and its people --------------------------------------------------------



@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with clean_environment():
        application = initialised_app(module_config(tmp_path_factory, "teacher-pages", max_upload_mb=1,
                                                    in_progress_limit=3))
    yield application
    application.extensions["microcred"].database.dispose()


@dataclass
class People:
    digest: str
    district_id: int
    staff: dict[str, int] = field(default_factory=dict)  # assessor, admin -> user id
    counter: itertools.count = field(default_factory=itertools.count)


@pytest.fixture(scope="module")
def people(app: Flask) -> People:
    """A district, an assessor and an administrator (one password hash shared: argon2 is slow on purpose)."""
    digest = hash_password(PASSWORD)
    with _db(app) as session:
        district = District(name="Test District", code="TD")
        session.add(district)
        session.flush()
        staff = {name: User(email=f"{name}@teacher-tests.example", display_name=name.title(), roles=[name],
                            password_hash=digest) for name in ("assessor", "admin")}
        session.add_all(staff.values())
        session.flush()
        return People(digest, district.id, {name: user.id for name, user in staff.items()})


@dataclass
class Teacher:
    client: FlaskClient
    id: int
    email: str


def _new_teacher(app: Flask, people: People, *, pathway: str | None = "team") -> Teacher:
    """A teacher enrolled (unless pathway is None) for the current programme year, signed in."""
    n = next(people.counter)
    email = f"teacher{n}@teacher-tests.example"
    with _db(app) as session:
        user = User(email=email, display_name=f"Teacher Number {n}", roles=["teacher"], password_hash=people.digest,
                    district_id=people.district_id)
        session.add(user)
        session.flush()
        if pathway:
            session.add(Enrolment(user_id=user.id, district_id=people.district_id, pathway=pathway,
                                  year=programme_year(datetime.now(UTC).date()), created_by="test"))
        user_id = user.id
    client = app.test_client()
    _sign_in(client, email)
    return Teacher(client, user_id, email)


@pytest.fixture
def teacher(app: Flask, people: People) -> Teacher:
    return _new_teacher(app, people)


# --- helpers ------------------------------------------------------------------------------------


def _db(app: Flask):
    return app.extensions["microcred"].database.transaction()


@dataclass
class Form:
    action: str
    method: str
    enctype: str
    fields: dict[str, list[str]]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.ids: list[str] = []
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        if tag == "form":
            self.forms.append(Form(a.get("action") or "", (a.get("method") or "get").lower(),
                                   a.get("enctype") or "", {}))
        elif self.forms and "name" in a and tag == "input" and a.get("type") not in ("file", "submit"):
            self.forms[-1].fields.setdefault(a["name"], []).append(a.get("value") or "")
        elif self.forms and "name" in a and tag == "textarea":
            self._textarea, self._text = a["name"], []

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea" and self._textarea is not None:
            self.forms[-1].fields.setdefault(self._textarea, []).append("".join(self._text))
            self._textarea = None


def _parse(page: str) -> _FormParser:
    parser = _FormParser()
    parser.feed(page)
    return parser


def _form(page: str, action_end: str) -> Form:
    """The one form on the page whose action ends with `action_end`."""
    forms = [f for f in _parse(page).forms if f.action.endswith(action_end)]
    assert len(forms) == 1, [f.action for f in _parse(page).forms]
    return forms[0]


def _sign_in(client: FlaskClient, email: str) -> None:
    fields = _form(client.get("/login").get_data(as_text=True), "").fields
    response = client.post("/login", data={**fields, "email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def _text(response) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))))


def _fetch(client: FlaskClient, url: str):
    """GET a file answer, read it and close it (send_file leaves the file open until then)."""
    response = client.get(url)
    response.get_data()
    response.close()
    return response


def _flashes(client: FlaskClient) -> list[str]:
    with client.session_transaction() as session:
        return [message for _category, message in session.get("_flashes", [])]


def _start(t: Teacher, slug: str = SLUG) -> int:
    """Start from the badge page's button; the submission's id."""
    page = t.client.get(f"/achievements/{slug}").get_data(as_text=True)
    form = _form(page, f"/my/start/{slug}")
    response = t.client.post(form.action, data=form.fields)
    assert response.status_code == 302, _flashes(t.client)
    match = re.fullmatch(r"/my/submissions/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def _page(t: Teacher, sid: int) -> str:
    response = t.client.get(f"/my/submissions/{sid}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _save(t: Teacher, sid: int, part: str, answers: list[str], links: str = "", *, revision: str | None = None):
    form = _form(_page(t, sid), f"/my/submissions/{sid}/parts/{part}")
    data = {**form.fields, "answer": answers, "links": links}
    if revision is not None:
        data["revision"] = revision
    return t.client.post(form.action, data=data)


def _upload(t: Teacher, sid: int, part: str, index: int, content: bytes, filename: str):
    page = _page(t, sid)
    forms = [f for f in _parse(page).forms if f.action.endswith(f"/parts/{part}/files")
             and f.fields["artifact_index"] == [str(index)]]
    assert len(forms) == 1 and forms[0].enctype == "multipart/form-data"
    fields = {k: v[0] for k, v in forms[0].fields.items()}
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart({**fields, "file": FileStorage(io.BytesIO(content), filename=filename)})
    return t.client.post(forms[0].action, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def _docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return out.getvalue()


def _words(n: int) -> str:
    return " ".join(["thinking"] * n)


def _complete(t: Teacher, sid: int) -> None:
    """Fill in every part so the work can be submitted."""
    assert _save(t, sid, "overview", [_words(100), _words(100), _words(100)]).status_code == 302
    assert _save(t, sid, "reflection", [_words(90), _words(90), _words(90)]).status_code == 302
    assert _upload(t, sid, "artifacts", 0, PDF, "lesson plan.pdf").status_code == 302
    assert _upload(t, sid, "artifacts", 1, MP4, "questioning.mp4").status_code == 302


@dataclass(frozen=True)
class Stored:
    user_id: int
    state: str
    revision: int
    answers: dict
    files: list[str]


def _submission(app: Flask, sid: int) -> Stored:
    with _db(app) as session:
        sub = session.get(Submission, sid)
        return Stored(sub.user_id, sub.state, sub.revision, dict(sub.answers or {}), [f.filename for f in sub.files])


def _attempts(app: Flask, sid: int) -> int:
    with _db(app) as session:
        return session.scalar(select(func.count()).select_from(Attempt).where(Attempt.submission_id == sid))


def _decide(app: Flask, people: People, sid: int, decision: str) -> Credential | None:
    rt = app.extensions["microcred"]
    with _db(app) as session:
        sub = session.get(Submission, sid)
        assessor = session.get(User, people.staff["assessor"])
        levels = {"context": "Demonstrated", "question-plan": "Demonstrated", "questioning-in-class": "Demonstrated",
                  "impact": "Demonstrated"}
        feedback = {}
        if decision == "not_yet":
            levels["impact"], feedback["impact"] = "Progressing", "Quote two students' answers and analyse them."
        credential = decide(session, sid, assessor=assessor, levels=levels, feedback=feedback,
                            overall="Thank you: a clear plan." if decision == "not_yet" else "",
                            decision=decision, revision=sub.revision, identity=rt.identity(), policy=rt.catalog.policy,
                            own_district_allowed=True)
        if credential is not None:
            session.flush()
            session.expunge(credential)
        return credential


# --- roles, dashboard, starting --------------------------------------------------------------------


def test_teacher_pages_need_a_signed_in_teacher(app: Flask, people: People) -> None:
    anonymous = app.test_client()
    response = anonymous.get("/my/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assessor = app.test_client()
    _sign_in(assessor, "assessor@teacher-tests.example")
    assert assessor.get("/my/").status_code == 403
    assert "My micro-credentials" not in assessor.get("/achievements").get_data(as_text=True)
    badge_page = assessor.get(f"/achievements/{SLUG}").get_data(as_text=True)
    assert "Start this micro-credential" not in badge_page  # only teachers see the button


def test_dashboard_and_start(app: Flask, teacher: Teacher) -> None:
    page = _text(teacher.client.get("/my/"))
    assert "0 of 3 micro-credentials in progress" in page
    assert "You have nothing in progress." in page and "No credentials yet." in page
    assert 'href="/achievements"' in teacher.client.get("/my/").get_data(as_text=True)
    assert 'href="/my/"' in teacher.client.get("/achievements").get_data(as_text=True)  # the account link

    sid = _start(teacher)
    assert "You started “Questioning: Higher-Order Questions”" in _flashes(teacher.client)[0]
    sub = _submission(app, sid)
    assert (sub.user_id, sub.state, sub.revision) == (teacher.id, "draft", 1)

    page = _text(teacher.client.get("/my/"))
    assert "1 of 3 micro-credentials in progress" in page
    assert "Questioning: Higher-Order Questions" in page
    assert "things left before you can submit" in page
    assert "Feedback waiting" not in page

    teacher.client.get("/my/")  # the flash was shown
    again = teacher.client.post(f"/my/start/{SLUG}", data=_form(
        teacher.client.get(f"/achievements/{SLUG}").get_data(as_text=True), f"/my/start/{SLUG}").fields)
    assert again.status_code == 302 and again.headers["Location"] == f"/achievements/{SLUG}"
    assert "already started" in teacher.client.get(again.headers["Location"]).get_data(as_text=True)


def test_start_refusals_come_back_as_a_message(app: Flask, people: People, teacher: Teacher) -> None:
    for slug in [SLUG, *OTHERS[:2]]:
        _start(teacher, slug)
    form = _form(teacher.client.get(f"/achievements/{OTHERS[2]}").get_data(as_text=True), f"/my/start/{OTHERS[2]}")
    response = teacher.client.post(form.action, data=form.fields, follow_redirects=True)
    assert response.request.path == f"/achievements/{OTHERS[2]}"
    page = _text(response)
    assert "You already have 3 micro-credential(s) in progress, the most allowed at once" in page
    assert "3 of 3 micro-credentials in progress" in _text(teacher.client.get("/my/"))

    wrong = teacher.client.post(f"/my/start/{LEADER}", data=form.fields, follow_redirects=True)
    assert "belongs to the Teacher-leader pathway" in _text(wrong)

    stranger = _new_teacher(app, people, pathway=None)
    own = _form(stranger.client.get(f"/achievements/{SLUG}").get_data(as_text=True), f"/my/start/{SLUG}")
    response = stranger.client.post(own.action, data=own.fields, follow_redirects=True)
    assert "You are not enrolled in the programme this year" in _text(response)
    assert teacher.client.post("/my/start/no-such-badge", data=form.fields).status_code == 404
    with _db(app) as session:
        assert session.scalar(select(func.count()).select_from(Submission).where(
            Submission.user_id == stranger.id)) == 0


# --- the work, part by part ----------------------------------------------------------------------


def test_submission_page_shows_parts_criteria_and_slots(app: Flask, teacher: Teacher) -> None:
    sid = _start(teacher)
    page = _page(teacher, sid)
    parsed = _parse(page)
    # Each part its own form, each carrying the revision; every textarea and file input has a label.
    for part in ("overview", "artifacts", "reflection"):
        assert _form(page, f"/parts/{part}").fields["revision"] == ["1"]
    for input_id in re.findall(r'<(?:textarea|input type="file")[^>]* id="([^"]+)"', page):
        assert f'<label for="{input_id}">' in page, input_id
    assert {"answer-overview-0", "links-overview", "file-artifacts-0", "file-artifacts-1"} <= set(parsed.ids)
    assert len(parsed.ids) == len(set(parsed.ids))  # ids are unique, so every error link finds its field
    headings = [int(h) for h in re.findall(r"<h([1-6])", page[page.index("<main"):])]
    assert headings[0] == 1 and all(b <= a + 1 for a, b in zip(headings, headings[1:]))  # no level skipped
    assert '<label for="answer-overview-0">1. Describe the class' in page
    assert 'accept=".pdf,.docx"' in page and 'accept=".mp4,.mov,.pdf,.docx"' in page
    text = _text(teacher.client.get(f"/my/submissions/{sid}"))
    assert "0 of 500 words" in text
    assert "1 file, as PDF, DOCX" in text and "1 to 2 files, as MP4, MOV, PDF, DOCX" in text
    assert "What the assessor judges in part 2" in text
    assert "Six or more labelled questions, at least four higher-order" in text  # a level descriptor
    assert "Context of the lesson: answer question 1" in text  # the checklist
    assert 'id="submit-button"' in page and "disabled" not in page  # a real button, never disabled
    assert "Not submitted yet." in text


def test_save_each_part(app: Flask, teacher: Teacher) -> None:
    sid = _start(teacher)
    response = _save(teacher, sid, "overview", ["Grade 7 science, 28 students.", "Because.", "Random calls."],
                     "https://video.example.org/lesson\n\n")
    assert response.status_code == 302 and response.headers["Location"] == f"/my/submissions/{sid}#part-overview"
    assert _save(teacher, sid, "reflection", ["They reasoned.", "", "Plan more probes."]).status_code == 302
    assert _save(teacher, sid, "artifacts", [], "https://docs.example.org/plan").status_code == 302
    sub = _submission(app, sid)
    assert sub.answers == {
        "overview": {"answers": ["Grade 7 science, 28 students.", "Because.", "Random calls."],
                     "links": ["https://video.example.org/lesson"]},
        "reflection": {"answers": ["They reasoned.", "", "Plan more probes."], "links": []},
        "artifacts": {"answers": [], "links": ["https://docs.example.org/plan"]}}
    assert sub.revision == 4
    page = _page(teacher, sid)
    assert _form(page, "/parts/overview").fields["answer"][0] == "Grade 7 science, 28 students."
    text = _text(teacher.client.get(f"/my/submissions/{sid}"))
    assert "8 of 500 words" in text  # 5 + 1 + 2
    assert "Reflection on impact: answer question 2" in text

    bad = _save(teacher, sid, "overview", ["a", "b", "c"], "not a web address")
    assert bad.status_code == 400
    page = bad.get_data(as_text=True)
    assert 'role="alert"' in page and '<a href="#part-overview-form">' in page
    assert "is not a web address" in _text(bad)
    assert _form(page, "/parts/overview").fields["links"] == ["not a web address"]  # kept as typed
    assert _submission(app, sid).revision == 4


def test_stale_form_keeps_what_was_typed(app: Flask, teacher: Teacher) -> None:
    sid = _start(teacher)
    old = _form(_page(teacher, sid), "/parts/overview")
    assert _save(teacher, sid, "reflection", ["Saved in another tab.", "", ""]).status_code == 302
    typed = ["My long careful answer that must not be lost.", "Second answer.", "Third."]
    response = teacher.client.post(old.action, data={**old.fields, "answer": typed, "links": ""})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert _form(page, "/parts/overview").fields["answer"] == typed
    assert _form(page, "/parts/overview").fields["revision"] == ["2"]  # saving again now works
    assert "changed since you opened the page" in _text(response) and "Not saved yet" in _text(response)
    assert _submission(app, sid).answers.get("overview") is None


def test_upload_a_pdf_and_remove_it(app: Flask, teacher: Teacher) -> None:
    sid = _start(teacher)
    response = _upload(teacher, sid, "artifacts", 0, PDF, "My lesson plan.pdf")
    assert response.status_code == 302, _text(response)
    page = _page(teacher, sid)
    assert "My lesson plan.pdf" in page and "application/pdf" in page
    with _db(app) as session:
        row = session.scalars(select(SubmissionFile).where(SubmissionFile.submission_id == sid)).one()
        file_id, sha = row.id, row.sha256
    assert f'href="/my/files/{file_id}"' in page
    served = _fetch(teacher.client, f"/my/files/{file_id}")
    assert served.status_code == 200 and served.data == PDF
    assert served.mimetype == "application/pdf"
    assert served.headers["Content-Disposition"].startswith("inline")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" not in served.headers  # browsers will not run a PDF viewer sandboxed
    assert served.headers["Cache-Control"].startswith("private")
    stored = app.extensions["microcred"].settings.uploads_dir / sha[:2] / sha[2:4] / sha
    assert stored.read_bytes() == PDF

    docx = _upload(teacher, sid, "artifacts", 1, _docx(), "transcript.docx")
    assert docx.status_code == 302
    with _db(app) as session:
        docx_id = session.scalars(select(SubmissionFile.id).where(SubmissionFile.filename == "transcript.docx",
                                                                  SubmissionFile.submission_id == sid)).one()
    download = _fetch(teacher.client, f"/my/files/{docx_id}")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Content-Security-Policy"] == "sandbox"  # never scripts from an upload

    form = _form(_page(teacher, sid), f"/files/{file_id}/delete")
    assert teacher.client.post(form.action, data=form.fields).status_code == 302
    assert "My lesson plan.pdf" not in _page(teacher, sid)


def test_an_image_is_shown_inline(app: Flask, people: People, teacher: Teacher) -> None:
    # No shipped class takes images, so the file row is added directly (as an upload would store it).
    sid = _start(teacher)
    png_path = app.extensions["microcred"].settings.uploads_dir
    from issuer.workflow.uploads import store_upload
    stored = store_upload(io.BytesIO(PNG), filename="board.png", allowed=("png",), max_bytes=MiB, uploads_dir=png_path)
    with _db(app) as session:
        session.add(SubmissionFile(submission_id=sid, part_id="artifacts", artifact_index=1, sha256=stored.sha256,
                                   size=stored.size, media_type=stored.media_type, filename="board.png"))
    page = _page(teacher, sid)
    assert re.search(r'<img class="file-preview" src="/my/files/\d+" alt="Your uploaded image board.png"', page)


def test_upload_without_a_file_says_so(app: Flask, teacher: Teacher) -> None:
    sid = _start(teacher)
    form = [f for f in _parse(_page(teacher, sid)).forms if f.action.endswith("/parts/artifacts/files")][1]
    boundary, body = encode_multipart({k: v[0] for k, v in form.fields.items()})
    response = teacher.client.post(form.action, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 400
    assert '<a href="#file-artifacts-1">Choose a file to upload.</a>' in response.get_data(as_text=True)


@pytest.mark.parametrize(("content", "filename", "message"), [
    (PNG, "plan.pdf", "plan.pdf does not contain what a .pdf file holds"),
    (PDF, "plan.exe", "this part accepts pdf, docx files, not .exe"),
    (b"", "plan.pdf", "plan.pdf is empty"),
])
def test_rejected_uploads_say_why(app: Flask, teacher: Teacher, content: bytes, filename: str, message: str) -> None:
    sid = _start(teacher)
    response = _upload(teacher, sid, "artifacts", 0, content, filename)
    assert response.status_code == 400
    assert message in _text(response)
    assert '<a href="#file-artifacts-0">' in response.get_data(as_text=True)
    assert not _submission(app, sid).files and _submission(app, sid).revision == 1


@pytest.mark.parametrize("size", [MiB + MiB // 2, 3 * MiB], ids=["over-the-file-limit", "over-the-request-limit"])
def test_oversized_upload_is_413_with_a_clear_message(app: Flask, teacher: Teacher, size: int) -> None:
    sid = _start(teacher)
    response = _upload(teacher, sid, "artifacts", 0, PDF + b"0" * size, "big.pdf")
    assert response.status_code == 413
    text = _text(response)
    assert "1 MB" in text and "There is a problem" in text
    assert "Questioning: Higher-Order Questions" in text  # the submission page, not a bare error
    assert not _submission(app, sid).files


def test_submit_incomplete_shows_the_checklist(app: Flask, teacher: Teacher) -> None:
    sid = _start(teacher)
    _save(teacher, sid, "overview", ["One.", "Two.", "Three."])
    form = _form(_page(teacher, sid), f"/my/submissions/{sid}/submit")
    response = teacher.client.post(form.action, data=form.fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    summary = page[page.index('role="alert"'):page.index("</div>", page.index('role="alert"'))]
    assert '<a href="#answer-reflection-0">Not submitted yet: Reflection on impact: answer question 1</a>' in summary
    assert "#file-artifacts-0" in summary and "#file-artifacts-1" in summary
    assert "#answer-overview-0" not in summary
    assert _attempts(app, sid) == 0 and _submission(app, sid).state == "draft"


def test_complete_submit_is_read_only(app: Flask, teacher: Teacher) -> None:
    sid = _start(teacher)
    _complete(teacher, sid)
    page = _page(teacher, sid)
    assert "Everything required is in place" in page
    form = _form(page, f"/my/submissions/{sid}/submit")
    response = teacher.client.post(form.action, data=form.fields)
    assert response.status_code == 302
    assert _submission(app, sid).state == "submitted" and _attempts(app, sid) == 1
    page = _page(teacher, sid)
    assert "<textarea" not in page and 'type="file"' not in page and "/submit" not in page
    text = _text(teacher.client.get(f"/my/submissions/{sid}"))
    assert "with an assessor since" in text and "Attempt 1" in text and "Waiting for an assessor" in text
    assert "Wait for the assessor: with an assessor since" in _text(teacher.client.get("/my/"))
    # A save sent from a page opened before submitting is refused; nothing changes.
    late = teacher.client.post(f"/my/submissions/{sid}/parts/overview",
                               data={**form.fields, "answer": ["x", "y", "z"], "links": ""})
    assert late.status_code == 400 and "is with an assessor" in _text(late)


def test_not_yet_feedback_then_resubmit(app: Flask, people: People, teacher: Teacher) -> None:
    sid = _start(teacher)
    _complete(teacher, sid)
    form = _form(_page(teacher, sid), "/submit")
    teacher.client.post(form.action, data=form.fields)
    _decide(app, people, sid, "not_yet")
    text = _text(teacher.client.get(f"/my/submissions/{sid}"))
    assert "Not yet earned: feedback from the assessor" in text and "Revise and resubmit." in text
    assert "Thank you: a clear plan." in text
    assert "Reflection on student thinking: Progressing" in text
    assert "Quote two students' answers and analyse them." in text
    assert text.index("Revise and resubmit") < text.index("Part 1: Context of the lesson")
    assert "Attempt 1" in text and "Not yet earned" in text
    dashboard = _text(teacher.client.get("/my/"))
    assert "Feedback waiting" in dashboard and "revise and resubmit" in dashboard
    # Revise one part and resubmit: attempt 2.
    assert _save(teacher, sid, "reflection", [_words(120), _words(120), _words(120)]).status_code == 302
    form = _form(_page(teacher, sid), "/submit")
    assert teacher.client.post(form.action, data=form.fields).status_code == 302
    assert _attempts(app, sid) == 2 and _submission(app, sid).state == "submitted"


# --- who may see what ----------------------------------------------------------------------------


def test_someone_elses_work_is_404(app: Flask, people: People, teacher: Teacher) -> None:
    sid = _start(teacher)
    _upload(teacher, sid, "artifacts", 0, PDF, "plan.pdf")
    with _db(app) as session:
        file_id = session.scalars(select(SubmissionFile.id).where(SubmissionFile.submission_id == sid)).one()
    page = _page(teacher, sid)
    other = _new_teacher(app, people)
    token = _form(other.client.get("/my/").get_data(as_text=True), "/logout").fields["csrf_token"][0]
    revision = _form(page, "/parts/overview").fields["revision"][0]
    assert other.client.get(f"/my/submissions/{sid}").status_code == 404
    assert other.client.get(f"/my/files/{file_id}").status_code == 404
    assert other.client.get(f"/my/submissions/{sid}/withdraw").status_code == 404
    for url, data in [(f"/my/submissions/{sid}/parts/overview", {"answer": ["a", "b", "c"]}),
                      (f"/my/submissions/{sid}/submit", {}), (f"/my/submissions/{sid}/withdraw", {}),
                      (f"/my/submissions/{sid}/files/{file_id}/delete", {})]:
        response = other.client.post(url, data={"csrf_token": token, "revision": revision, **data})
        assert response.status_code == 404, url
    assert _submission(app, sid).revision == int(revision)
    assert other.client.get("/my/files/999999").status_code == 404

    assessor = app.test_client()
    _sign_in(assessor, "assessor@teacher-tests.example")
    # a draft is not yet the assessor's to see (submitted work is: see tests/test_assessor_pages.py)
    assert _fetch(assessor, f"/my/files/{file_id}").status_code == 404
    admin = app.test_client()
    _sign_in(admin, "admin@teacher-tests.example")
    assert _fetch(admin, f"/my/files/{file_id}").status_code == 200
    assert assessor.get(f"/my/submissions/{sid}").status_code == 403  # the teacher's pages stay the teacher's


def test_forged_or_missing_csrf_saves_nothing(app: Flask, teacher: Teacher) -> None:
    sid = _start(teacher)
    form = _form(_page(teacher, sid), "/parts/overview")
    for token in (None, "forged-token"):
        data = {**form.fields, "answer": ["a", "b", "c"]}
        if token is None:
            del data["csrf_token"]
        else:
            data["csrf_token"] = token
        assert teacher.client.post(form.action, data=data).status_code == 400
    boundary, body = encode_multipart({"revision": "1", "artifact_index": "0",
                                       "file": FileStorage(io.BytesIO(PDF), filename="plan.pdf")})
    upload = teacher.client.post(f"/my/submissions/{sid}/parts/artifacts/files", data=body,
                                 content_type=f"multipart/form-data; boundary={boundary}")
    assert upload.status_code == 400
    assert teacher.client.post(f"/my/start/{OTHERS[0]}").status_code == 400
    sub = _submission(app, sid)
    assert (sub.revision, sub.answers, sub.files) == (1, {}, [])


def test_withdraw_with_confirmation(app: Flask, teacher: Teacher) -> None:
    sid = _start(teacher)
    page = _page(teacher, sid)
    assert f'href="/my/submissions/{sid}/withdraw"' in page
    confirm = teacher.client.get(f"/my/submissions/{sid}/withdraw")
    assert confirm.status_code == 200 and "Yes, withdraw it" in _text(confirm)
    assert _submission(app, sid).state == "draft"  # a GET changes nothing
    form = _form(confirm.get_data(as_text=True), f"/my/submissions/{sid}/withdraw")
    response = teacher.client.post(form.action, data=form.fields)
    assert response.status_code == 302 and response.headers["Location"] == "/my/"
    assert _submission(app, sid).state == "withdrawn"
    dashboard = teacher.client.get("/my/").get_data(as_text=True)
    assert "<details" in dashboard and "1 withdrawn micro-credential" in dashboard
    assert "0 of 3 micro-credentials in progress" in _text(teacher.client.get("/my/"))
    again = teacher.client.post(form.action, data=form.fields)
    assert again.status_code == 400 and "cannot be withdrawn" in _text(again)
    assert "<textarea" not in _page(teacher, sid)


# --- the credential page -------------------------------------------------------------------------


def test_credential_page_and_document(app: Flask, people: People, teacher: Teacher) -> None:
    sid = _start(teacher)
    _complete(teacher, sid)
    form = _form(_page(teacher, sid), "/submit")
    teacher.client.post(form.action, data=form.fields)
    credential = _decide(app, people, sid, "earned")
    assert credential is not None and _submission(app, sid).state == "earned"
    url = f"/credentials/{credential.public_id}"

    dashboard = teacher.client.get("/my/").get_data(as_text=True)
    assert f'href="{url}"' in dashboard
    assert f'href="{url}"' in _page(teacher, sid)

    anyone = app.test_client()
    response = anyone.get(url, headers={"Accept": "text/html"})
    assert response.status_code == 200
    text = _text(response)
    assert "Questioning: Higher-Order Questions" in text
    assert "Earned by Teacher Number" in text
    assert "Department of Education: Teacher Micro-credentials" in text
    assert re.search(r"Professional development points \d+(\.\d+)? PDPs", text)
    assert "Verified." in text and "Signature: Passed." in text
    assert "Download credential.json" in text
    assert re.search(r'<img class="badge-image" src="/achievements/[a-z-]+/v/\d+/image.svg"\s+alt="Badge for ',
                     response.get_data(as_text=True))
    for accept, mimetype in [("application/ld+json", "application/ld+json"),
                             ("application/vc+ld+json", "application/vc+ld+json"),
                             ("application/json", "application/json")]:
        answer = anyone.get(url, headers={"Accept": accept})
        assert answer.status_code == 200 and answer.mimetype == mimetype
        assert answer.data == credential.document.encode("utf-8")  # byte for byte as stored
        assert "Accept" in answer.headers["Vary"]
    download = anyone.get(f"{url}/credential.json")
    assert download.data == credential.document.encode("utf-8")
    assert download.headers["Content-Disposition"] == 'attachment; filename="credential.json"'
    assert json.loads(download.data)["credentialSubject"]["name"].startswith("Teacher Number")
    assert anyone.get("/credentials/not-a-real-id").status_code == 404
