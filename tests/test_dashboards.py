"""Programme dashboards: figures on a known programme, computed here independently from its lists;
who may see which page; bad query strings are 400s."""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterator

import pytest
from flask import Flask

from app_support import clean_environment, initialised_app, module_config
from programme_support import NOW, SURVEYS, TEACHERS, WORK, YEAR, Programme, at, build, csrf_token, signed_in


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with clean_environment():
        application = initialised_app(module_config(tmp_path_factory, "dashboards"))
    yield application
    application.extensions["microcred"].database.dispose()


@pytest.fixture(scope="module")
def programme(app: Flask) -> Programme:
    return build(app)


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def _works(code: str | None = None) -> list:
    return [w for w in WORK if code is None or TEACHERS[w.teacher][0] == code]


def _expected(works: list) -> dict[str, object]:
    """The figures, from the fixture's own lists."""
    decided = [(s, d, dec) for w in works for s, d, dec in w.attempts if dec]
    firsts = [w.attempts[0][0] - w.started for w in works if w.attempts]
    first_decided = [w.attempts[0] for w in works if w.attempts and w.attempts[0][2]]
    return {
        "Started": len(works), "Submitted": sum(1 for w in works if w.attempts),
        "In review": sum(1 for w in works if w.state == "submitted"), "Earned": sum(1 for w in works if w.state == "earned"),
        "Not yet": sum(1 for w in works if w.state == "not_yet"), "Withdrawn": sum(1 for w in works if w.withdrawn),
        "Decisions": len(decided),
        "Pass rate (%)": round(100 * sum(1 for *_, d in decided if d == "earned") / len(decided), 1) if decided else None,
        "First-attempt pass rate (%)": (round(100 * sum(1 for *_, d in first_decided if d == "earned") / len(first_decided), 1)
                                        if first_decided else None),
        "Mean days to first submission": round(statistics.mean(firsts), 1) if firsts else None,
        "Mean days to decision": round(statistics.mean(d - s for s, d, _ in decided), 1) if decided else None,
    }


def _check(row: dict[str, str], expected: dict[str, object]) -> None:
    for column, value in expected.items():
        if value is None:
            assert row[column] == "", (column, row)
        else:
            assert float(row[column]) == pytest.approx(value, abs=0.051), (column, row)


def test_department_figures_per_district_match_the_fixture(app: Flask, programme: Programme) -> None:
    admin = signed_in(app, programme.users["admin"])
    rows = {r["Code"]: r for r in _csv(admin.get(f"/dashboards/department/districts.csv?year={YEAR}"))}
    for code in ("AAA", "BBB"):
        _check(rows[code], _expected(_works(code)))
        enrolled = [t for t, (c, p, years) in TEACHERS.items() if c == code and YEAR in years]
        assert int(rows[code]["Enrolled: TEAM-aligned"]) + int(rows[code]["Enrolled: Teacher-leader"]) == len(enrolled)


def test_department_figures_per_badge_class_pathway_and_month(app: Flask, programme: Programme) -> None:
    admin = signed_in(app, programme.users["admin"])
    badges = _csv(admin.get(f"/dashboards/department/badge-classes.csv?year={YEAR}"))
    assert sum(int(r["Started"]) for r in badges) == len(WORK)
    leader = [r for r in badges if r["Pathway"] == "Teacher-leader"]
    _check(leader[0], _expected([w for w in WORK if w.slug.startswith("leader-")]))
    pathways = {r["Pathway"]: r for r in _csv(admin.get(f"/dashboards/department/pathways.csv?year={YEAR}"))}
    _check(pathways["TEAM-aligned"], _expected([w for w in WORK if not w.slug.startswith("leader-")]))
    months = {r["Month"]: r for r in _csv(admin.get(f"/dashboards/department/months.csv?year={YEAR}"))}
    assert len(months) == 12
    sent = [at(s).strftime("%Y-%m") for w in WORK for s, _, _ in w.attempts]
    earned = [at(d).strftime("%Y-%m") for w in WORK for _, d, dec in w.attempts if dec == "earned"]
    for month, row in months.items():
        assert int(row["Submitted"]) == sent.count(month)
        assert int(row["Earned"]) == earned.count(month)
    indicators = _csv(admin.get(f"/dashboards/department/indicators.csv?year={YEAR}"))
    assert indicators and all(r["Code"] for r in indicators)


def test_assessor_workload_and_surveys(app: Flask, programme: Programme) -> None:
    admin = signed_in(app, programme.users["admin"])
    [row] = _csv(admin.get(f"/dashboards/department/assessors.csv?year={YEAR}"))
    decided = [(s, d, dec) for w in WORK for s, d, dec in w.attempts if dec]
    assert int(row["Decisions"]) == len(decided)
    assert int(row["Earned"]) == sum(1 for *_, d in decided if d == "earned")
    surveys = {r["Micro-credential"]: r for r in _csv(admin.get(f"/dashboards/department/surveys.csv?year={YEAR}"))}
    assert sum(int(r["Responses"]) for r in surveys.values()) == len(SURVEYS)
    q_scores = [a["quality"] for (t, slug, n), a in SURVEYS.items() if slug == "questioning-higher-order"]
    [questioning] = [r for name, r in surveys.items() if "Higher" in name or "higher" in name]
    assert float(questioning["Quality of the micro-credential (mean, 1-5)"]) == round(statistics.mean(q_scores), 2)


def test_district_page_shows_its_own_figures_charts_and_tables(app: Flask, programme: Programme) -> None:
    coordinator = signed_in(app, programme.users["coordinator-AAA"])
    page = coordinator.get(f"/dashboards/districts/{programme.districts['AAA']}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert text.count('role="img"') >= 2 and "<title id=" in text  # SVG charts named for screen readers
    assert "<caption>" in text  # and their figures as tables
    assert "Edsger Dijkstra" not in text  # another district's teacher
    expected = _expected(_works("AAA"))
    firsts = sorted(w.attempts[0][0] - w.started for w in _works("AAA") if w.attempts)
    assert f"median {statistics.median(firsts):.1f}" in text
    assert f"Started</dt><dd>{expected['Started']}" in text
    teachers = _csv(coordinator.get(f"/dashboards/districts/{programme.districts['AAA']}/teachers.csv"))
    names = {r["Teacher"] for r in teachers}
    assert names == {t for t, (c, _p, years) in TEACHERS.items() if c == "AAA" and YEAR in years}
    ada = next(r for r in teachers if r["Teacher"] == "Ada Lovelace")
    assert int(ada["Earned"]) == sum(1 for w in WORK if w.teacher == "Ada Lovelace" and w.state == "earned")


def test_inactive_teachers_follow_the_weeks_asked_for(app: Flask, programme: Programme) -> None:
    coordinator = signed_in(app, programme.users["coordinator-AAA"])
    url = f"/dashboards/districts/{programme.districts['AAA']}/inactive.csv"
    for weeks in (1, 4, 30):
        cutoff = NOW.timestamp() - weeks * 7 * 86400
        expected = {t for t, (c, _p, years) in TEACHERS.items() if c == "AAA" and YEAR in years
                    and at(max([0] + [max([w.started] + [d or s for s, d, _ in w.attempts]) for w in WORK
                                      if w.teacher == t])).timestamp() < cutoff}
        assert {r["Teacher"] for r in _csv(coordinator.get(f"{url}?weeks={weeks}"))} == expected


@pytest.mark.parametrize("query", ["weeks=0", "weeks=abc", "weeks=1000", "year=2026", "year=2026-28", "year=x"])
def test_bad_query_strings_are_refused_with_a_message(app: Flask, programme: Programme, query: str) -> None:
    admin = signed_in(app, programme.users["admin"])
    for url in ("/dashboards/department", f"/dashboards/districts/{programme.districts['AAA']}"):
        response = admin.get(f"{url}?{query}")
        assert response.status_code == 400
        assert "cannot show" in response.get_data(as_text=True)


def test_unknown_csv_table_is_404(app: Flask, programme: Programme) -> None:
    admin = signed_in(app, programme.users["admin"])
    assert admin.get("/dashboards/department/nothing.csv").status_code == 404


PAGES = ["/dashboards/", "/dashboards/department", "/dashboards/department/districts.csv",
         "/dashboards/districts/{AAA}", "/dashboards/districts/{AAA}/teachers.csv", "/dashboards/districts/{BBB}",
         "/dashboards/districts/{BBB}/months.csv", "/dashboards/research-export"]
ALLOWED = {  # who may open each page (others: 403; anonymous: sign in first)
    "admin": set(PAGES),
    "coordinator-AAA": {"/dashboards/", "/dashboards/districts/{AAA}", "/dashboards/districts/{AAA}/teachers.csv"},
    "coordinator-BBB": {"/dashboards/", "/dashboards/districts/{BBB}", "/dashboards/districts/{BBB}/months.csv"},
    "assessor": set(), "teacher-only": set(),
}


@pytest.mark.parametrize("who", [None, *ALLOWED])
def test_permission_matrix(app: Flask, programme: Programme, who: str | None) -> None:
    client = signed_in(app, programme.users[who] if who else None)
    for page in PAGES:
        url = page.format(**programme.districts)
        response = client.get(url)
        if who is None:
            assert response.status_code == 302 and "/login" in response.headers["Location"], url
        elif page in ALLOWED[who]:
            assert response.status_code in (200, 302), (who, url, response.status_code)
        else:
            assert response.status_code == 403, (who, url, response.status_code)
    # The research export itself (a POST, with the client's own CSRF token) is the administrator's alone.
    if who is not None:
        token = csrf_token(client.get("/").get_data(as_text=True))  # the sign-out form carries one
        response = client.post("/dashboards/research-export", data={"year": YEAR, "csrf_token": token})
        assert response.status_code == (200 if who == "admin" else 403), (who, response.status_code)
        assert (response.mimetype == "application/zip") == (who == "admin")
        response.close()


def test_department_page_renders_with_links_to_each_district(app: Flask, programme: Programme) -> None:
    admin = signed_in(app, programme.users["admin"])
    text = admin.get("/dashboards/department").get_data(as_text=True)
    for district_id in programme.districts.values():
        assert f"/dashboards/districts/{district_id}?" in text
    assert 'role="img"' in text and 'id="definitions"' in text


def test_dashboard_benchmark_runs_at_a_tiny_size() -> None:
    """bench/dashboards.py generates data and times every page (speed is printed, never asserted here)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, str(root / "bench" / "dashboards.py"), "--districts", "3", "--teachers", "30",
                             "--submissions", "200", "--n", "2", "--json"],
                            capture_output=True, text=True, timeout=300, check=True,
                            env={k: v for k, v in __import__("os").environ.items() if not k.startswith("MICROCRED_")})
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["rows"]["submissions"] == 200
    assert all(page["median_ms"] > 0 for page in figures["pages"].values())


def test_migration_0007_back_fills_the_programme_facts(tmp_path) -> None:
    """Work recorded before 0007 gets its year, and its attempts their copies and durations."""
    from alembic import command
    from sqlalchemy import create_engine, text

    from issuer.db import Database

    url = f"sqlite:///{tmp_path}/old.sqlite3"
    db = Database(url)
    try:
        with db.engine.begin() as connection:
            config = db.alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, "0006")
        raw = create_engine(url)  # no foreign keys: only the rows the back-fill reads
        with raw.begin() as c:
            c.execute(text("INSERT INTO submissions (id, user_id, badge_class_id, badge_version, district_id, state, "
                           "revision, answers, started_at, updated_at) VALUES (1, 1, 7, 1, 3, 'earned', 1, '{}', "
                           "'2025-06-30 23:00:00.000000', '2025-08-01 00:00:00.000000')"))
            c.execute(text("INSERT INTO attempts (id, submission_id, number, content, submitted_at, decision, decided_at) "
                           "VALUES (1, 1, 1, '{}', '2025-07-02 23:00:00.000000', 'not_yet', '2025-07-03 11:00:00.000000'),"
                           " (2, 1, 2, '{}', '2025-07-10 23:00:00.000000', NULL, NULL)"))
        raw.dispose()
        db.upgrade()
        with db.engine.connect() as c:
            assert c.execute(text("SELECT year FROM submissions")).scalar_one() == "2024-25"  # started on 30 June
            rows = c.execute(text("SELECT work_year, district_id, badge_class_id, seconds_from_start, seconds_to_decision "
                                  "FROM attempts ORDER BY number")).all()
        assert [tuple(r) for r in rows] == [("2024-25", 3, 7, 2 * 86400, 12 * 3600), ("2024-25", 3, 7, 10 * 86400, None)]
    finally:
        db.dispose()
