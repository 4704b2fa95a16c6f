"""End to end in a real browser: Debian's Chromium driven by Playwright against a live server.

A teacher signs in, starts a micro-credential, fills every part, uploads files and submits; an
assessor judges each criterion and returns it "not yet" with feedback; the teacher revises and
resubmits; the assessor marks it earned; the teacher opens the credential. A screenshot of each
page is saved under tests/screenshots/ (README: "Browser tests").
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from issuer.models import Credential, District, Enrolment, User
from issuer.people.accounts import hash_password
from issuer.people.districts import programme_year
from verifier import verify_credential

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).parent / "screenshots"
SLUG = "questioning-higher-order"
PASSWORD = "correct horse battery staple"

def _require_browser() -> None:
    if CHROMIUM is None:
        message = "Chromium is not installed (Debian package `chromium`); .ci/run installs it"
        if os.environ.get("MICROCRED_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app on a real HTTP port, served by threads (as a browser needs)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)


@pytest.fixture
def accounts(app: Flask) -> dict[str, str]:
    """A teacher enrolled in the TEAM pathway of one district, an assessor from another."""
    year = programme_year(datetime.now(UTC).date())
    with app.extensions["microcred"].database.transaction() as session:
        maple, river = District(name="Maple County Schools", code="MCS"), District(name="River City Schools", code="RCS")
        session.add_all([maple, river])
        session.flush()
        teacher = User(email="jordan@maple.example", display_name="Jordan Rivera", roles=["teacher"],
                       district_id=maple.id, password_hash=hash_password(PASSWORD))
        assessor = User(email="alex@river.example", display_name="Alex Kim", roles=["assessor"],
                        district_id=river.id, password_hash=hash_password(PASSWORD))
        session.add_all([teacher, assessor])
        session.flush()
        session.add(Enrolment(user_id=teacher.id, district_id=maple.id, pathway="team", year=year, created_by="test"))
    return {"teacher": "jordan@maple.example", "assessor": "alex@river.example"}


@pytest.fixture
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"])
        try:
            yield chromium
        finally:
            chromium.close()


class Person:
    """One browser context (its own cookies) acting as one person, saving numbered screenshots."""

    counter = 0

    def __init__(self, browser, base: str, email: str) -> None:
        self.context = browser.new_context(viewport={"width": 1200, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.base, self.email = base, email
        # Chromium reports what the pages' Content-Security-Policy blocked (an inline style, a script).
        self.blocked: list[str] = []
        self.page.on("console", lambda message: self.blocked.append(message.text)
                     if "Content Security Policy" in message.text else None)

    def shot(self, name: str) -> None:
        assert self.blocked == [], (self.page.url, self.blocked)
        Person.counter += 1
        SCREENSHOTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{Person.counter:02d}-{name}.png"), full_page=True)

    def sign_in(self) -> None:
        self.page.goto(self.base + "/login")
        self.page.get_by_label("Email address").fill(self.email)
        self.page.get_by_label("Password").fill(PASSWORD)
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Sign in").click()
        assert "/login" not in self.page.url, self.page.content()[:2000]

    def sign_out(self) -> None:
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Sign out").click()

    def close(self) -> None:
        self.context.close()


def _evidence_files(tmp_path: Path) -> dict[str, Path]:
    plan = tmp_path / "lesson-plan.pdf"
    plan.write_bytes(b"%PDF-1.4\n% lesson plan with six labelled questions\n%%EOF\n")
    transcript = tmp_path / "questioning-transcript.pdf"
    transcript.write_bytes(b"%PDF-1.4\n% transcript of the questioning, times marked\n%%EOF\n")
    return {"plan": plan, "transcript": transcript}


def _fill_answers(page, part_id: str, count: int, text: str) -> None:
    for i in range(count):
        page.locator(f"#answer-{part_id}-{i}").fill(f"{text} (question {i + 1}).")


def _judge(page, criteria: list[str], *, below: str | None, feedback: str, decision: str) -> None:
    for crit in criteria:
        if crit == below:
            page.locator(f"#level-{crit}--2").check()  # the second level: below the passing one
            page.locator(f"#feedback-{crit}").fill(feedback)
        else:
            page.locator(f"#level-{crit}").check()  # the first level: the passing one
    page.locator("#decision" if decision == "earned" else "#decision--not_yet").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Record the decision").click()


def test_teacher_and_assessor_earn_a_credential_in_a_real_browser(
        app: Flask, live_server: str, accounts: dict[str, str], browser, tmp_path: Path) -> None:
    files = _evidence_files(tmp_path)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()

    # The teacher starts the micro-credential and fills every part.
    teacher = Person(browser, live_server, accounts["teacher"])
    teacher.sign_in()
    teacher.page.goto(f"{live_server}/achievements/{SLUG}")
    teacher.shot("teacher-badge-page")
    with teacher.page.expect_navigation():
        teacher.page.get_by_role("button", name="Start this micro-credential").click()
    assert re.search(r"/my/submissions/\d+$", teacher.page.url)
    submission_url = teacher.page.url
    teacher.shot("teacher-started")

    _fill_answers(teacher.page, "overview", 3, "Grade 7 science, 28 students; objective: explain energy transfer")
    with teacher.page.expect_navigation():
        teacher.page.get_by_role("button", name="Save part 1").click()
    for index, path in enumerate([files["plan"], files["transcript"]]):
        slot = teacher.page.locator(f"#artifact-artifacts-{index}")
        slot.locator("input[type=file]").set_input_files(str(path))
        with teacher.page.expect_navigation():
            slot.locator("button[type=submit]", has_text="Upload").click()
        assert path.name in teacher.page.locator(f"#artifact-artifacts-{index}").inner_text()
    _fill_answers(teacher.page, "reflection", 3, "Students justified answers with evidence")
    with teacher.page.expect_navigation():
        teacher.page.get_by_role("button", name="Save part 3").click()
    teacher.shot("teacher-every-part-filled")
    with teacher.page.expect_navigation():
        teacher.page.get_by_role("button", name="Submit for review").click()
    assert "with an assessor" in teacher.page.content()
    teacher.shot("teacher-submitted")
    teacher.sign_out()

    # The assessor (another district, blind review) returns it "not yet" with feedback.
    criteria = ["context", "question-plan", "questioning-in-class", "impact"]
    assessor = Person(browser, live_server, accounts["assessor"])
    assessor.sign_in()
    assessor.page.goto(f"{live_server}/review/")
    assessor.shot("assessor-queue")
    with assessor.page.expect_navigation():
        assessor.page.get_by_role("link", name=re.compile("^Open")).first.click()
    assert "Jordan Rivera" not in assessor.page.content()  # blind until decided
    assessor.shot("assessor-review")
    feedback = "Label each planned question with its cognitive level; at least four must be higher-order."
    _judge(assessor.page, criteria, below="question-plan", feedback=feedback, decision="not_yet")
    assert "Not yet" in assessor.page.content()
    assessor.shot("assessor-not-yet-recorded")

    # The teacher reads the feedback, revises and resubmits.
    teacher.sign_in()
    teacher.page.goto(submission_url)
    assert feedback in teacher.page.content()
    teacher.shot("teacher-feedback")
    teacher.page.locator("#answer-overview-1").fill("Revised: every planned question is now labelled by level.")
    with teacher.page.expect_navigation():
        teacher.page.get_by_role("button", name="Save part 1").click()
    with teacher.page.expect_navigation():
        teacher.page.get_by_role("button", name="Submit for review").click()
    assert "with an assessor" in teacher.page.content()
    teacher.sign_out()

    # The assessor marks the second attempt earned: the credential is issued.
    assessor.page.goto(f"{live_server}/review/")
    with assessor.page.expect_navigation():
        assessor.page.get_by_role("link", name=re.compile("^Open")).first.click()
    assert "Earlier attempts" in assessor.page.content()
    _judge(assessor.page, criteria, below=None, feedback="", decision="earned")
    assert "see the credential" in assessor.page.content()
    assessor.shot("assessor-earned-recorded")

    # The teacher opens the credential from their dashboard.
    teacher.sign_in()
    teacher.page.goto(f"{live_server}/my/")
    teacher.shot("teacher-dashboard-earned")
    with teacher.page.expect_navigation():
        teacher.page.get_by_role("link", name="Questioning: Higher-Order Questions", exact=True).first.click()
    assert "/credentials/" in teacher.page.url
    teacher.shot("teacher-credential")
    teacher.close()
    assessor.close()

    with app.extensions["microcred"].database.transaction() as session:
        [row] = session.scalars(select(Credential)).all()
        assert teacher.page.url.endswith(row.public_id)
        document = json.loads(row.document)
    report = verify_credential(document, documents=app.extensions["microcred"].identity().documents)
    assert report.verified
    assert document["credentialSubject"]["name"] == "Jordan Rivera"
    assert len(list(SCREENSHOTS.glob("*.png"))) >= 10


_UNLABELLED = """() => [...document.querySelectorAll('input, textarea, select')]
  .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby'))
  .map(e => e.outerHTML)"""
_FOCUS_VISIBLE = """() => { const s = getComputedStyle(document.activeElement);
  return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none'; }"""


def test_forms_are_labelled_and_usable_from_the_keyboard(
        app: Flask, live_server: str, accounts: dict[str, str], browser) -> None:
    teacher = Person(browser, live_server, accounts["teacher"])
    page = teacher.page
    page.goto(live_server + "/login")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("() => document.activeElement.textContent.trim()") == "Skip to main content"
    assert page.evaluate(_FOCUS_VISIBLE), "the focused element shows no focus indicator"
    # Sign in with the keyboard alone.
    page.get_by_label("Email address").focus()
    page.keyboard.type(accounts["teacher"])
    page.keyboard.press("Tab")
    assert page.evaluate(_FOCUS_VISIBLE)
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/login" not in page.url, page.content()[:3000]
    page.goto(f"{live_server}/achievements/{SLUG}")
    with page.expect_navigation():
        page.get_by_role("button", name="Start this micro-credential").click()
    for url in (page.url, live_server + "/my/", live_server + "/achievements"):
        page.goto(url)
        assert page.evaluate(_UNLABELLED) == [], url
    # An incomplete submission: the error summary is announced and links to the fields.
    page.goto(page.url)
    page.goto(f"{live_server}/my/")
    page.get_by_role("link", name="Questioning: Higher-Order Questions", exact=True).first.click()
    with page.expect_navigation():
        page.get_by_role("button", name="Submit for review").click()
    alert = page.get_by_role("alert").first
    assert alert.is_visible()
    first_link = alert.get_by_role("link").first
    target = first_link.get_attribute("href")
    assert target and target.startswith("#") and page.locator(target).count() == 1
    teacher.close()
