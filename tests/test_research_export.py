"""The research export: de-identified (no name or email in any cell), pseudonyms stable across
exports, comments only on request, a data dictionary for every column, every export audited."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from issuer.models import AuditEvent, User

from app_support import clean_environment, initialised_app, module_config
from programme_support import SURVEYS, TEACHERS, WORK, YEAR, Programme, build, csrf_token, signed_in


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    with clean_environment():
        application = initialised_app(module_config(tmp_path_factory, "research"))
    yield application
    application.extensions["microcred"].database.dispose()


@pytest.fixture(scope="module")
def programme(app: Flask) -> Programme:
    return build(app)


def _export(app: Flask, programme: Programme, **form: str) -> dict[str, list[dict[str, str]]]:
    admin = signed_in(app, programme.users["admin"])
    page = admin.get("/dashboards/research-export").get_data(as_text=True)
    response = admin.post("/dashboards/research-export", data={"year": YEAR, "csrf_token": csrf_token(page), **form})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    response.close()
    files = {name: list(csv.DictReader(io.StringIO(archive.read(name).decode()))) for name in archive.namelist()
             if name.endswith(".csv")}
    files["README.txt"] = archive.read("README.txt").decode()  # type: ignore[assignment]
    files["_headers"] = {name: archive.read(name).decode().splitlines()[0].split(",")  # type: ignore[assignment]
                         for name in archive.namelist() if name.endswith(".csv")}
    return files


def _people(app: Flask) -> list[User]:
    with app.extensions["microcred"].database.transaction() as session:
        return list(session.scalars(select(User)))


def test_no_name_or_email_in_any_cell(app: Flask, programme: Programme) -> None:
    files = _export(app, programme)
    people = _people(app)
    forbidden = {p.email.lower() for p in people} | {p.display_name.lower() for p in people}
    forbidden |= {part.lower() for p in people for part in p.display_name.split() if len(part) > 3}
    for name, rows in files.items():
        if name in ("README.txt", "_headers"):
            continue
        for row in rows:
            for column, value in row.items():
                cell = (value or "").lower()
                assert "@" not in cell, (name, column, value)
                assert not any(word in cell for word in forbidden if name != "data_dictionary.csv"), (name, column, value)
    assert "comment" not in files["surveys.csv"][0]


def test_the_export_holds_the_programme(app: Flask, programme: Programme) -> None:
    files = _export(app, programme)
    assert len(files["submissions.csv"]) == len(WORK)
    assert len(files["attempts.csv"]) == sum(len(w.attempts) for w in WORK)
    assert len(files["surveys.csv"]) == len(SURVEYS)
    assert len(files["enrolments.csv"]) == sum(1 for _c, _p, years in TEACHERS.values() if YEAR in years)
    states = sorted(r["state"] for r in files["submissions.csv"])
    assert states == sorted(w.state for w in WORK)
    # One teacher, one pseudonym, in every file.
    per_teacher = {r["teacher"] for r in files["submissions.csv"]}
    assert len(per_teacher) == len({w.teacher for w in WORK})
    assert per_teacher <= {r["teacher"] for r in files["enrolments.csv"]}
    # The dictionary names every column of every file.
    described = {(r["file"], r["column"]) for r in files["data_dictionary.csv"]}
    for name, header in files["_headers"].items():
        if name != "data_dictionary.csv":
            assert {(name, column) for column in header} <= described, name


def test_pseudonyms_are_stable_across_exports_and_not_plain_hashes(app: Flask, programme: Programme) -> None:
    first, second = _export(app, programme), _export(app, programme)
    assert [r["teacher"] for r in first["submissions.csv"]] == [r["teacher"] for r in second["submissions.csv"]]
    import hashlib
    for person in _people(app):
        for digest in (hashlib.sha256(person.email.encode()).hexdigest(), hashlib.sha256(str(person.id).encode()).hexdigest()):
            assert not any(digest[:16] in r["teacher"] for r in first["submissions.csv"])


def test_comments_only_when_asked_and_every_export_is_audited(app: Flask, programme: Programme) -> None:
    with app.extensions["microcred"].database.transaction() as session:
        before = len(session.scalars(select(AuditEvent).where(AuditEvent.action == "research.exported")).all())
    files = _export(app, programme, comments="yes")
    comments = {r["comment"] for r in files["surveys.csv"]} - {""}
    assert comments == {a["comment"] for a in SURVEYS.values() if a["comment"]}
    assert "INCLUDED" in files["README.txt"]
    with app.extensions["microcred"].database.transaction() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "research.exported")
                                 .order_by(AuditEvent.id)).all()
        assert len(events) == before + 1
        assert events[-1].actor == "admin@programme-tests.example"
        assert events[-1].detail["comments"] is True and events[-1].detail["years"] == [YEAR]
    page = signed_in(app, programme.users["admin"]).get("/dashboards/research-export").get_data(as_text=True)
    assert "admin@programme-tests.example" in page  # who exported, on the page


def test_no_year_or_a_bad_year_is_a_clear_400(app: Flask, programme: Programme) -> None:
    admin = signed_in(app, programme.users["admin"])
    token = csrf_token(admin.get("/dashboards/research-export").get_data(as_text=True))
    for data in ({}, {"year": "2026"}, {"year": "20x6-27"}):
        response = admin.post("/dashboards/research-export", data={"csrf_token": token, **data})
        assert response.status_code == 400
    assert admin.post("/dashboards/research-export", data={"year": YEAR}).status_code == 400  # no CSRF token


def test_cli_writes_the_same_export(app: Flask, programme: Programme, tmp_path) -> None:
    out = tmp_path / "export.zip"
    result = app.test_cli_runner().invoke(args=["research-export", "--out", str(out), "--year", YEAR,
                                                "--actor", "cli:researcher"])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(out) as archive:
        assert {"submissions.csv", "data_dictionary.csv", "README.txt"} <= set(archive.namelist())
    bad = app.test_cli_runner().invoke(args=["research-export", "--out", str(out), "--year", "nope"])
    assert bad.exit_code == 1 and "programme year" in bad.output
