"""The newer pages in a real browser: Debian's Chromium driven by Playwright against a live server.

Licensure staff verify an uploaded credential of ours and a garbage file, then make a renewal report
(PDPs against the threshold, counted and excluded with reasons, CSV, print view); an anonymous
visitor checks a pasted credential on /verify; a teacher answers, reloads and edits a feedback
survey; a coordinator and an administrator read the programme dashboards (named SVG charts, the
same figures in tables). On every page: each field is labelled and keyboard focus is visible.
Screenshots go to tests/screenshots/ (names with "pages-"); the fixtures come from test_browser_flow.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from issuer.models import SurveyResponse, User
from issuer.people.accounts import hash_password

import test_browser_flow as flow
from licensure_support import EDUCATOR_EMAIL, issue_ours
from programme_support import WORK, build
from test_browser_flow import _FOCUS_VISIBLE, _UNLABELLED, PASSWORD, SCREENSHOTS, Person

QUESTIONING = "Questioning: Higher-Order Questions"
browser, live_server = flow.browser, flow.live_server  # the fixtures (Chromium, the app on a real port)


@pytest.fixture(scope="module", autouse=True)
def _fresh_screenshots() -> None:
    for old in SCREENSHOTS.glob("*-pages-*.png"):
        old.unlink()


def _user(app: Flask, email: str, name: str, *roles: str) -> str:
    with app.extensions["microcred"].database.transaction() as session:
        session.add(User(email=email, display_name=name, roles=list(roles), password_hash=hash_password(PASSWORD)))
    return email


def _with_password(app: Flask, user_id: int) -> str:
    """A user of the built programme (made without a password) given one, for a real sign-in."""
    with app.extensions["microcred"].database.transaction() as session:
        user = session.get(User, user_id)
        user.password_hash = hash_password(PASSWORD)
        return user.email


def _check_page(page, field: str) -> None:
    """Every field labelled; from the skip link, Tab reaches `field` (a CSS selector) and its focus shows."""
    assert page.evaluate(_UNLABELLED) == [], page.url
    page.get_by_role("link", name="Skip to main content").focus()  # where Tab starts on a fresh page
    assert page.evaluate(_FOCUS_VISIBLE)
    page.keyboard.press("Enter")  # into <main>
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => ['INPUT', 'TEXTAREA', 'SELECT'].includes(document.activeElement.tagName)"):
            break
    assert page.evaluate("s => document.activeElement === document.querySelector(s)", field), (
        page.url, page.evaluate("() => document.activeElement.outerHTML"))
    assert page.evaluate(_FOCUS_VISIBLE), f"no visible focus on {field} at {page.url}"


def _verdict(page, source: str) -> tuple[str, str]:
    """The pill (Verified / Not verified) and the headline in words of one verdict card."""
    card = page.get_by_role("region", name=f"Verdict for {source}")
    return card.locator(".pill").inner_text(), card.locator("p.lead").inner_text()


# --- 1. licensure staff: verify, then a renewal report ---------------------------------------------


def test_licensure_staff_verify_files_and_make_a_renewal_report(
        app: Flask, live_server: str, browser, tmp_path: Path) -> None:
    ours = tmp_path / "pat-creative-thinking.json"
    ours.write_text(json.dumps(issue_ours(app, slug="thinking-creative")))  # `microcred issue`, signed by us
    someone_else = tmp_path / "someone-elses.json"
    someone_else.write_text(json.dumps(issue_ours(app, "someone.else@schools.example", "questioning-higher-order")))
    garbage = tmp_path / "holiday-photo.png"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    today = datetime.now(UTC).date().isoformat()

    clerk = Person(browser, live_server, _user(app, "clerk@licensure.example", "Lee Clerk", "licensure"))
    clerk.sign_in()
    page = clerk.page
    page.goto(live_server + "/licensure/verify")
    _check_page(page, "#pasted")
    page.get_by_label("Files: JSON, baked PNG or SVG badges, or a zip of them").set_input_files([str(ours), str(garbage)])
    with page.expect_navigation():
        page.get_by_role("button", name="Verify").click()
    assert page.get_by_role("heading", name="2 credentials: 1 verified").is_visible()
    pill, headline = _verdict(page, ours.name)
    assert pill == "Verified" and headline.startswith("Verified: “Thinking: Creative Thinking” from "), headline
    assert headline.endswith(f", earned on {today}."), headline
    pill, headline = _verdict(page, garbage.name)
    assert pill == "Not verified" and headline.startswith("Not verified: "), headline
    assert "PNG" in headline and len(headline) > len("Not verified: ") + 10, headline  # a reason in words
    clerk.shot("pages-licensure-verify")
    _check_page(page, "#pasted")

    # The renewal report: the educator, their credentials (ours, another educator's, garbage).
    page.goto(live_server + "/licensure/renewal")
    _check_page(page, "#name")
    educator = {"Name": "Pat Educator", "Email": EDUCATOR_EMAIL, "License number": "TN-4471",
                "License valid from": "2020-01-01", "License valid until": "2035-06-30"}

    def fill_and_add() -> None:
        for label, value in educator.items():
            page.get_by_label(label, exact=True).fill(value)
        page.get_by_label("License and purpose").select_option("practitioner")
        page.get_by_label("Files: JSON, baked PNG or SVG badges, or a zip of them").set_input_files(
            [str(ours), str(someone_else), str(garbage)])

    fill_and_add()
    with page.expect_navigation():
        page.get_by_role("button", name="Make the report").click()
    report = page.get_by_role("article", name="Renewal report")
    text = report.inner_text()
    assert "Pat Educator" in text and "License TN-4471, valid 2020-01-01 to 2035-06-30" in text, text
    assert "6 PDPs counted of 30 required: requirement not met." in text, text
    rows = {r.locator("td").first.inner_text().split("\n")[0]: r.locator("td").nth(3).inner_text()
            for r in report.locator("tbody tr").all()}
    assert rows[ours.name].startswith("Counted"), rows
    assert rows[someone_else.name].startswith("Excluded: Not this educator's credential"), rows
    assert rows[garbage.name].startswith("Excluded: Not verified"), rows
    pdps = [r.locator("td").nth(4).inner_text() for r in report.locator("tbody tr").all()]
    assert sorted(pdps) == ["0", "0", "6"]
    # What was typed stays in the form.
    assert page.get_by_label("License number").input_value() == "TN-4471"
    assert page.get_by_label("License and purpose").input_value() == "practitioner"
    clerk.shot("pages-licensure-renewal-report")
    _check_page(page, "#name")

    # Printed: the form and the site header are hidden, the report is not.
    page.emulate_media(media="print")
    assert report.is_visible() and not page.locator("form.upload-form").is_visible()
    assert not page.locator("header.site").is_visible()
    assert not page.get_by_role("button", name="Print").is_visible()
    assert not report.get_by_role("link", name="Download this report as CSV").is_visible()
    clerk.shot("pages-licensure-renewal-print")
    page.emulate_media(media="screen")
    assert page.get_by_role("button", name="Print").is_visible()
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    page.get_by_role("button", name="Print").click()  # static/print.js, allowed by the page's policy
    assert page.evaluate("() => window.printed") == 1

    # The report as CSV, from the link under it (nothing to choose again) ...
    def downloaded(click) -> tuple[str, str]:
        with page.expect_download() as info:
            click()
        return info.value.suggested_filename, Path(info.value.path()).read_text(encoding="utf-8")

    name, text = downloaded(report.get_by_role("link", name="Download this report as CSV").click)
    assert name == "renewal-TN-4471.csv"
    summary, entries = text.split("\n\n", 1)
    [head] = list(csv.DictReader(io.StringIO(summary)))
    assert (head["name"], head["license_number"], head["pdps_total"], head["threshold"], head["met"]) == (
        "Pat Educator", "TN-4471", "6", "30", "no")
    reasons = {r["source"]: (r["counted"], r["reason"]) for r in csv.DictReader(io.StringIO(entries))}
    assert reasons == {ours.name: ("yes", ""), someone_else.name: ("no", "not_this_educator"),
                       garbage.name: ("no", "not_verified")}
    # ... and the same file straight from the form, without looking at the report first.
    fill_and_add()
    assert downloaded(page.get_by_role("button", name="Download as CSV").click) == (name, text)
    clerk.close()


# --- 2. anyone: check one pasted credential ----------------------------------------------------------


def test_anonymous_visitor_checks_a_pasted_credential(app: Flask, live_server: str, browser) -> None:
    credential = issue_ours(app)
    visitor = Person(browser, live_server, "")
    page = visitor.page
    page.goto(live_server + "/verify")
    _check_page(page, "#pasted")
    page.get_by_label("Paste a credential (JSON, or a compact JWS)").fill(json.dumps(credential, indent=2))
    with page.expect_navigation():
        page.get_by_role("button", name="Check").click()
    pill, headline = _verdict(page, "pasted text")
    assert pill == "Verified" and headline.startswith(f"Verified: “{QUESTIONING}” from "), headline
    assert f"earned on {datetime.now(UTC).date().isoformat()}" in headline
    visitor.shot("pages-public-verify-ok")

    # The same credential with its recipient's name changed: the signature no longer holds.
    credential["credentialSubject"]["name"] = "Someone Else"
    page.get_by_label("Paste a credential (JSON, or a compact JWS)").fill(json.dumps(credential))
    with page.expect_navigation():
        page.get_by_role("button", name="Check").click()
    pill, headline = _verdict(page, "pasted text")
    assert pill == "Not verified" and headline.startswith("Not verified: "), headline
    visitor.shot("pages-public-verify-tampered")
    _check_page(page, "#pasted")
    visitor.close()


# --- 3. a teacher answers a feedback survey, then changes it -----------------------------------------


def test_teacher_answers_and_edits_a_feedback_survey(app: Flask, live_server: str, browser) -> None:
    programme = build(app)
    index = next(i for i, w in enumerate(WORK) if w.teacher == "Barbara Liskov")  # thinking-creative, "not yet"
    attempt_id = programme.attempts[(index, 1)]
    teacher = Person(browser, live_server, _with_password(app, programme.users["Barbara Liskov"]))
    teacher.sign_in()
    page = teacher.page
    page.goto(live_server + "/my/")
    offers = page.get_by_role("region", name="Tell us how it went")
    with page.expect_navigation():
        offers.get_by_role("link", name=re.compile(r"\(attempt 1, not yet earned\)")).click()
    assert page.url.endswith(f"/my/surveys/attempts/{attempt_id}")
    _check_page(page, 'input[name="quality"][value=""]')  # Tab lands on the group's checked radio

    def rate(name: str, value: str) -> None:
        page.locator(f"fieldset#{name}").get_by_label(value, exact=True).check()

    for name, value in (("quality", "4"), ("rigour", "5"), ("resources", "2")):
        rate(name, value)
    page.get_by_label("Hours you spent on it").fill("7.5")
    page.get_by_label("With colleagues").check()
    page.get_by_label("Anything else you would like to tell us").fill("The exemplars were the most useful part.")
    teacher.shot("pages-survey-filled")
    with page.expect_navigation():
        page.get_by_role("button", name="Send my answers").click()
    assert "Thank you: your answers are saved" in page.get_by_role("status").first.inner_text()

    def shown() -> dict[str, str]:
        ratings = {name: page.locator(f'input[name="{name}"]:checked').get_attribute("value")
                   for name in ("quality", "rigour", "relevance", "resources", "worked_with")}
        return {**ratings, "hours": page.get_by_label("Hours you spent on it").input_value(),
                "comment": page.get_by_label("Anything else you would like to tell us").input_value()}

    page.reload()
    assert shown() == {"quality": "4", "rigour": "5", "relevance": "", "resources": "2", "worked_with": "colleagues",
                       "hours": "7.5", "comment": "The exemplars were the most useful part."}
    assert page.get_by_role("button", name="Save my changes").is_visible()
    teacher.shot("pages-survey-saved")
    _check_page(page, 'input[name="quality"][value="4"]')

    # Changed once more: a rating, the hours, how they worked.
    rate("quality", "2")
    rate("relevance", "3")
    page.get_by_label("Hours you spent on it").fill("9")
    page.get_by_label("With a mentor").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save my changes").click()
    page.reload()
    assert shown() == {"quality": "2", "rigour": "5", "relevance": "3", "resources": "2", "worked_with": "mentor",
                       "hours": "9", "comment": "The exemplars were the most useful part."}
    teacher.shot("pages-survey-edited")
    teacher.close()
    with app.extensions["microcred"].database.transaction() as session:
        [row] = session.scalars(select(SurveyResponse).where(SurveyResponse.attempt_id == attempt_id)).all()
        assert (row.quality, row.rigour, row.relevance, row.resources, row.hours, row.worked_with) == (
            2, 5, 3, 2, 9.0, "mentor")


# --- 4. the programme dashboards -------------------------------------------------------------------


_CHART_AND_TABLE = """([chart, table, columns]) => {
  const svg = [...document.querySelectorAll('svg[role=img]')]
    .find(s => s.querySelector('title').textContent === chart);
  const bars = [...svg.querySelectorAll('text[font-size="11"]')].map(t => parseFloat(t.textContent.replace(/,/g, '')));
  const t = document.querySelector('#table-' + table + ' table');
  const heads = [...t.querySelectorAll('thead th')].map(h => h.textContent.trim());
  const wanted = heads.map((h, i) => columns.some(c => h === c || (c[0] === '*' && h.endsWith(c.slice(1)))) ? i : -1)
    .filter(i => i >= 0);
  const cells = [];
  for (const row of t.querySelectorAll('tbody tr'))
    for (const i of wanted) {
      const text = row.children[i].textContent.trim().replace(/,/g, '');
      if (text !== '–') cells.push(parseFloat(text));
    }
  return [bars.sort((a, b) => a - b), cells.sort((a, b) => a - b)];
}"""


def _charts_are_named_and_tabled(page, charts: dict[str, tuple[str, list[str]]]) -> None:
    """Each chart is an image named by its title, and its bars' figures are the table's (columns: exact
    headers, or "*suffix")."""
    for name, (table, columns) in charts.items():
        chart = page.get_by_role("img", name=re.compile("^" + re.escape(name)))
        assert chart.count() == 1 and chart.is_visible(), name
        assert chart.evaluate("e => e.tagName.toLowerCase()") == "svg"
        assert page.locator(f"#table-{table} table caption").inner_text().strip()
        bars, cells = page.evaluate(_CHART_AND_TABLE, [name, table, columns])
        assert bars and bars == cells, (name, bars, cells)


def _rows(page, table: str) -> dict[str, list[str]]:
    rows = page.locator(f"#table-{table} tbody tr").all()
    return {r.locator("th").inner_text().strip(): [c.inner_text().strip() for c in r.locator("td").all()] for r in rows}


def test_coordinator_and_administrator_read_the_dashboards(app: Flask, live_server: str, browser) -> None:
    programme = build(app)
    coordinator = Person(browser, live_server, _with_password(app, programme.users["coordinator-AAA"]))
    coordinator.sign_in()
    page = coordinator.page
    page.goto(live_server + "/dashboards/")
    assert page.url.endswith(f"/dashboards/districts/{programme.districts['AAA']}"), page.url
    assert page.get_by_role("heading", level=1).inner_text() == "District AAA: programme dashboard"
    _charts_are_named_and_tabled(page, {
        "Submissions and decisions per month": ("months", ["Submitted", "Earned", "Not yet"]),
        "Work started and earned by micro-credential": ("badge-classes", ["Started", "Earned"]),
    })
    roster = page.locator("#table-teachers").inner_text()
    assert all(name in roster for name in ("Ada Lovelace", "Grace Hopper", "Alan Turing"))
    assert "Edsger Dijkstra" not in roster and "Barbara Liskov" not in roster  # another district's teachers
    badges = page.locator("#table-badge-classes")
    heads = [h.inner_text().strip() for h in badges.locator("thead th").all()][1:]
    questioning = dict(zip(heads, _rows(page, "badge-classes")[QUESTIONING], strict=True))
    assert (questioning["Started"], questioning["Earned"]) == ("2", "1"), questioning  # Ada earned it, Grace waits
    csv_link = badges.get_by_role("link", name=re.compile("^Download CSV"))
    response = page.request.get(live_server + csv_link.get_attribute("href"))
    assert response.ok and response.headers["content-type"].startswith("text/csv")
    assert QUESTIONING in response.text()
    coordinator.shot("pages-dashboard-district")
    _check_page(page, "#year")
    coordinator.close()

    admin = Person(browser, live_server, _with_password(app, programme.users["admin"]))
    admin.sign_in()
    page = admin.page
    page.goto(live_server + "/dashboards/")
    assert page.url.endswith("/dashboards/department"), page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Programme dashboard"
    _charts_are_named_and_tabled(page, {
        "Submissions and decisions per month": ("months", ["Submitted", "Earned", "Not yet"]),
        "Pass rate of decided attempts by micro-credential (%)": ("badge-classes", ["Pass rate (%)"]),
        "Teachers' mean ratings by micro-credential (1-5)": ("surveys", ["*(mean, 1-5)"]),
    })
    admin.shot("pages-dashboard-department")
    _check_page(page, "#year")
    admin.close()
