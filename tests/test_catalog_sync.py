"""The catalogue in the issuer's database: `microcred catalog ...`, syncing files, web edits,
versions, retiring, and PDP values that are never rewritten once issued.

Runs on SQLite, and on PostgreSQL when MICROCRED_TEST_DATABASE_URL is set (see conftest.py).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from badge_classes import CatalogInvalid, canonical_definition, load_catalog, parse_definition, to_achievement
from badge_classes.catalog import PACKAGE_CATALOG
from issuer.catalog.versions import badge_version, current_badge, get_record, history, record_definition
from issuer.models import AuditEvent, BadgeClassVersion, Credential
from issuer.runtime import Runtime
from verifier import verify_credential

FIRST = "questioning-higher-order"
SECOND = "thinking-creative"
BASE_URL = "https://badges.example.gov"
WEB_ACTOR = "admin@education.example.gov"

Data = dict[str, Any]


# ----- helpers -----

def _rt(app: Flask) -> Runtime:
    return app.extensions["microcred"]


def invoke(app: Flask, *args: str) -> Result:
    """Run a CLI command; an uncaught exception (a traceback for the user) fails the test."""
    result = app.test_cli_runner().invoke(args=list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"`microcred {' '.join(args)}` crashed: {result.output}") from result.exception
    assert "Traceback" not in result.output
    return result


def catalogue_dir(root: Path, *slugs: str) -> Path:
    """The shipped config and the named definitions (default: every shipped one) in `root`."""
    shutil.copytree(PACKAGE_CATALOG / "config", root / "config")
    if slugs:
        (root / "definitions").mkdir()
        for slug in slugs:
            shutil.copy(PACKAGE_CATALOG / "definitions" / f"{slug}.yaml", root / "definitions")
    else:
        shutil.copytree(PACKAGE_CATALOG / "definitions", root / "definitions")
    return root


def definition_path(root: Path, slug: str = FIRST) -> Path:
    return root / "definitions" / f"{slug}.yaml"


def read_definition(root: Path, slug: str = FIRST) -> Data:
    return yaml.safe_load(definition_path(root, slug).read_text(encoding="utf-8"))


def edit_file(root: Path, change: Callable[[Data], object], slug: str = FIRST) -> None:
    data = read_definition(root, slug)
    change(data)
    definition_path(root, slug).write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def web_edit(app: Flask, data: Data) -> None:
    """What the admin form does: the same schema, then record_definition(source="web")."""
    rt = _rt(app)
    badge = parse_definition(data, rt.catalog.frameworks, source="form")
    with rt.database.transaction() as session:
        record_definition(session, badge, image=None, source="web", actor=WEB_ACTOR)


def versions(app: Flask, slug: str = FIRST) -> list[tuple[int, str, str]]:
    """(version, source, content hash) of each stored version, oldest first."""
    with _rt(app).database.transaction() as session:
        return [(v.version, v.source, v.content_hash) for v in get_record(session, slug).versions]


def status(app: Flask, slug: str = FIRST) -> str:
    with _rt(app).database.transaction() as session:
        return get_record(session, slug).status


def current(app: Flask, slug: str = FIRST):
    with _rt(app).database.transaction() as session:
        return current_badge(session, slug)


def events(app: Flask, prefix: str) -> list[tuple[str, str, str]]:
    with _rt(app).database.transaction() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action.like(f"{prefix}%")).order_by(AuditEvent.id))
        return [(e.action, e.subject, e.actor) for e in rows]


def credential_count(app: Flask) -> tuple[int, int]:
    with _rt(app).database.transaction() as session:
        issued = select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("credential.%"))
        return session.scalar(select(func.count()).select_from(Credential)), session.scalar(issued)


def issue(app: Flask, slug: str = FIRST, email: str = "t@example.org") -> Result:
    return invoke(app, "issue", "--achievement", slug, "--recipient-email", email, "--recipient-name", "Jo Teacher")


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A catalogue directory with two definitions."""
    return catalogue_dir(tmp_path / "catalog", FIRST, SECOND)


@pytest.fixture
def synced(make_app: Callable[..., Flask], files: Path) -> Flask:
    """An instance initialised (so synced) from `files`."""
    return make_app(catalog_dir=str(files))


@pytest.fixture
def restart(make_app: Callable[..., Flask], files: Path) -> Callable[[], Flask]:
    """The same instance started again, so it reads the files as they are now."""
    return lambda: make_app(initialise=False, catalog_dir=str(files))


# ----- init and validate -----

def test_init_records_every_shipped_class_at_version_one_from_its_file(app: Flask) -> None:
    shipped = load_catalog()
    with _rt(app).database.transaction() as session:
        for slug, badge in shipped.badge_classes.items():
            [entry] = history(session, slug)
            assert (entry["version"], entry["source"], entry["content_hash"]) == (1, "file", badge.content_hash)
            assert current_badge(session, slug).version == 1
        stored = session.scalar(select(func.count()).select_from(BadgeClassVersion))
    assert stored == len(shipped.badge_classes)
    result = invoke(app, "catalog", "history", FIRST)
    assert result.exit_code == 0
    [line] = result.output.splitlines()
    assert line.startswith("v1\t") and "\tfile\t" in line and shipped.badge_classes[FIRST].content_hash in line


def test_validate_counts_the_shipped_catalogue_without_an_initialised_instance(
        uninitialised_app: Flask, instance_dir: Path) -> None:
    result = invoke(uninitialised_app, "catalog", "validate")
    assert result.exit_code == 0, result.output
    assert f"OK: {len(load_catalog().badge_classes)} badge classes" in result.output
    assert not instance_dir.exists()


def _broken(root: Path) -> Path:
    catalogue_dir(root, FIRST, SECOND)
    edit_file(root, lambda d: d.update(estimated_hours="ten"), SECOND)
    return root


def test_validate_names_the_file_and_field_of_a_broken_catalogue(
        uninitialised_app: Flask, tmp_path: Path, instance_dir: Path) -> None:
    broken = _broken(tmp_path / "broken")
    result = invoke(uninitialised_app, "catalog", "validate", "--dir", str(broken))
    assert result.exit_code == 1
    assert f"{SECOND}.yaml" in result.output and "estimated_hours" in result.output
    assert not instance_dir.exists()


def test_an_app_on_a_broken_catalogue_does_not_start(make_app: Callable[..., Flask], tmp_path: Path) -> None:
    broken = _broken(tmp_path / "broken")
    with pytest.raises(CatalogInvalid) as caught:
        make_app(initialise=False, catalog_dir=str(broken))
    assert f"{SECOND}.yaml" in caught.value.message and "estimated_hours" in caught.value.message


def _console_script() -> str:
    candidate = Path(sys.executable).with_name("microcred")
    return str(candidate) if candidate.exists() else "/work/main/.venv/bin/microcred"


def test_console_script_validate_reports_a_broken_catalogue_without_a_traceback(tmp_path: Path) -> None:
    broken = _broken(tmp_path / "broken")
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env.update(MICROCRED_INSTANCE=str(instance), FLASK_SKIP_DOTENV="1")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([_console_script(), "catalog", "validate", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)

    done = run("--dir", str(broken))
    assert done.returncode != 0
    assert f"{SECOND}.yaml" in done.stderr and "estimated_hours" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr + done.stdout

    done = run()
    assert done.returncode == 0, done.stderr
    assert "OK: " in done.stdout and "Traceback" not in done.stderr
    assert not instance.exists()  # validating writes nothing


# ----- sync -----

def test_sync_of_unchanged_files_changes_nothing(synced: Flask, restart: Callable[[], Flask]) -> None:
    before = versions(synced)
    result = invoke(restart(), "catalog", "sync")
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines() == ["0 changed, 2 unchanged."]
    assert versions(synced) == before and [v for v, _, _ in before] == [1]


def test_changed_content_makes_version_two_and_keeps_version_one(synced: Flask, files: Path,
                                                                  restart: Callable[[], Flask]) -> None:
    original = current(synced)
    edit_file(files, lambda d: d.update(title="Questioning: Higher-Order Questions (revised)"))
    result = invoke(restart(), "catalog", "sync")
    assert result.exit_code == 0, result.output
    assert f"{FIRST}\tv2\tnew_version" in result.output and "1 changed, 1 unchanged." in result.output

    with _rt(synced).database.transaction() as session:
        old, new = badge_version(session, FIRST, 1), badge_version(session, FIRST, 2)
    assert canonical_definition(old) == canonical_definition(original)
    assert (old.version, old.content_hash, old.title) == (1, original.content_hash, original.title)
    assert (new.version, new.title) == (2, "Questioning: Higher-Order Questions (revised)")
    assert [(v, source) for v, source, _ in versions(synced)] == [(1, "file"), (2, "file")]
    assert current(synced).version == 2
    assert ("badge_class.new_version", FIRST, "cli:sync") in events(synced, "badge_class.")


def test_retiring_in_the_file_changes_the_status_without_a_new_version(synced: Flask, files: Path,
                                                                        restart: Callable[[], Flask]) -> None:
    before = versions(synced)
    edit_file(files, lambda d: d.update(status="retired"))
    result = invoke(restart(), "catalog", "sync")
    assert result.exit_code == 0, result.output
    assert f"{FIRST}\tv1\tstatus\tretired" in result.output
    assert status(synced) == "retired" and versions(synced) == before
    assert ("badge_class.retired", FIRST, "cli:sync") in events(synced, "badge_class.")


def test_file_change_after_a_web_edit_is_a_conflict_until_forced(synced: Flask, files: Path,
                                                                  restart: Callable[[], Flask]) -> None:
    web = read_definition(files)
    web["description"] = "Edited on the web by the administrator."
    web_edit(synced, web)
    web_version = versions(synced)
    assert [(v, source) for v, source, _ in web_version] == [(1, "file"), (2, "web")]

    edit_file(files, lambda d: d.update(title="Changed in the file"))
    app = restart()
    result = invoke(app, "catalog", "sync")
    assert result.exit_code == 1
    assert f"{FIRST}\tv2\tconflict" in result.output and "export" in result.output
    assert versions(synced) == web_version  # nothing overwritten
    assert current(synced).description == "Edited on the web by the administrator."

    result = invoke(app, "catalog", "sync", "--force")
    assert result.exit_code == 0, result.output
    assert f"{FIRST}\tv3\tnew_version" in result.output
    assert [(v, source) for v, source, _ in versions(synced)] == [(1, "file"), (2, "web"), (3, "file")]
    assert current(synced).title == "Changed in the file"
    assert invoke(restart(), "catalog", "sync").exit_code == 0  # resolved: no conflict any more


def test_web_edit_survives_a_sync_of_unchanged_files(synced: Flask, files: Path,
                                                     restart: Callable[[], Flask]) -> None:
    web = read_definition(files)
    web["estimated_hours"] = 20
    web_edit(synced, web)
    before = versions(synced)
    result = invoke(restart(), "catalog", "sync")
    assert result.exit_code == 0, result.output
    assert versions(synced) == before
    assert current(synced).estimated_hours == 20


def test_syncing_the_exported_web_version_is_not_a_conflict(synced: Flask, files: Path, tmp_path: Path,
                                                            restart: Callable[[], Flask]) -> None:
    web = read_definition(files)
    web["description"] = "Edited on the web by the administrator."
    web_edit(synced, web)
    exported = tmp_path / "exported"
    assert invoke(synced, "catalog", "export", "--dir", str(exported)).exit_code == 0
    shutil.copy(exported / f"{FIRST}.yaml", definition_path(files))  # the reviewed web version, committed

    result = invoke(restart(), "catalog", "sync")
    assert result.exit_code == 0, result.output
    assert "conflict" not in result.output
    assert [(v, source) for v, source, _ in versions(synced)] == [(1, "file"), (2, "web")]


def test_a_file_content_change_keeps_a_class_the_administrator_retired(synced: Flask, files: Path,
                                                                       restart: Callable[[], Flask]) -> None:
    assert invoke(synced, "catalog", "retire", FIRST).exit_code == 0
    edit_file(files, lambda d: d.update(estimated_hours=16))  # a small fix; the file's status is untouched
    assert invoke(restart(), "catalog", "sync").exit_code == 0
    assert current(synced).estimated_hours == 16
    assert status(synced) == "retired"


def test_export_writes_files_that_load_back_with_the_same_hashes(app: Flask, tmp_path: Path) -> None:
    web = yaml.safe_load(definition_path(PACKAGE_CATALOG).read_text(encoding="utf-8"))
    web["tags"] = [*web["tags"], "edited on the web"]
    web_edit(app, web)
    assert invoke(app, "catalog", "retire", SECOND).exit_code == 0

    root = tmp_path / "exported"
    shutil.copytree(PACKAGE_CATALOG / "config", root / "config")
    result = invoke(app, "catalog", "export", "--dir", str(root / "definitions"))
    assert result.exit_code == 0, result.output

    loaded = load_catalog(root)
    with _rt(app).database.transaction() as session:
        stored = {slug: current_badge(session, slug) for slug in loaded.badge_classes}
    assert sorted(loaded.badge_classes) == sorted(load_catalog().badge_classes)
    assert {s: b.content_hash for s, b in loaded.badge_classes.items()} == \
           {s: b.content_hash for s, b in stored.items()}
    assert loaded.badge_classes[FIRST].tags[-1] == "edited on the web"
    assert loaded.badge_classes[SECOND].status == "retired"


# ----- list, retire, activate, history -----

def test_list_shows_active_classes_and_all_adds_retired_ones(app: Flask) -> None:
    assert invoke(app, "catalog", "retire", FIRST).exit_code == 0
    active = invoke(app, "catalog", "list")
    everything = invoke(app, "catalog", "list", "--all")
    assert active.exit_code == everything.exit_code == 0
    active_slugs = [line.split("\t")[0] for line in active.output.splitlines()]
    all_lines = {line.split("\t")[0]: line.split("\t") for line in everything.output.splitlines()}
    assert FIRST not in active_slugs and SECOND in active_slugs
    assert sorted(all_lines) == sorted(load_catalog().badge_classes)
    assert all_lines[FIRST][1:3] == ["v1", "retired"] and all_lines[SECOND][1:3] == ["v1", "active"]


def test_retire_and_activate_change_the_status_and_are_audited(app: Flask) -> None:
    result = invoke(app, "catalog", "retire", FIRST)
    assert result.exit_code == 0 and FIRST in result.output
    assert status(app) == "retired"
    result = invoke(app, "catalog", "activate", FIRST)
    assert result.exit_code == 0 and FIRST in result.output
    assert status(app) == "active"
    assert [e for e in events(app, "badge_class.") if e[0] != "badge_class.created"] == [
        ("badge_class.retired", FIRST, "cli:administrator"), ("badge_class.reactivated", FIRST, "cli:administrator")]
    assert versions(app)[-1][0] == 1  # a status is not a version


def test_a_retired_class_cannot_be_issued(app: Flask) -> None:
    assert invoke(app, "catalog", "retire", FIRST).exit_code == 0
    result = issue(app)
    assert result.exit_code == 1
    assert FIRST in result.output and "retired" in result.output
    assert credential_count(app) == (0, 0)
    assert invoke(app, "catalog", "activate", FIRST).exit_code == 0
    assert issue(app).exit_code == 0


def test_history_lists_versions_newest_first(app: Flask) -> None:
    web = yaml.safe_load(definition_path(PACKAGE_CATALOG).read_text(encoding="utf-8"))
    web["estimated_hours"] = 12
    web_edit(app, web)
    result = invoke(app, "catalog", "history", FIRST)
    assert result.exit_code == 0
    lines = [line.split("\t") for line in result.output.splitlines()]
    assert [(cols[0], cols[2], cols[3]) for cols in lines] == [("v2", "web", WEB_ACTOR), ("v1", "file", "cli:sync")]


@pytest.mark.parametrize("command", ["history", "retire", "activate"])
def test_unknown_slug_is_a_clean_error(app: Flask, command: str) -> None:
    result = invoke(app, "catalog", command, "no-such-class")
    assert result.exit_code == 1
    assert "no-such-class" in result.output
    assert events(app, "badge_class.re") == []


# ----- PDP values: the value in force when issued, never rewritten -----

def test_issued_credentials_keep_the_pdp_value_in_force_when_issued(app: Flask, make_app: Callable[..., Flask],
                                                                     tmp_path: Path) -> None:
    result = issue(app)
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)
    assert first["credentialSubject"]["creditsEarned"] == 6
    assert first["credentialSubject"]["achievement"]["creditsAvailable"] == 6
    with _rt(app).database.transaction() as session:
        row = session.scalars(select(Credential)).one()
        stored_before, first_pdp = row.document, row.pdp_value
    assert first_pdp == 6 and json.loads(stored_before) == first

    root = catalogue_dir(tmp_path / "catalog")
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    with (root / "config" / "pdp_policy.yaml").open("a", encoding="utf-8") as policy:
        policy.write(f"  - effective_from: {yesterday.isoformat()}\n    value: 7\n    note: A new state rule.\n")
    later = make_app(initialise=False, catalog_dir=str(root))
    assert later.extensions["microcred"].catalog.policy.value_on(FIRST, "team", yesterday).value == 7
    sync = invoke(later, "catalog", "sync")
    assert sync.exit_code == 0 and "0 changed" in sync.output  # a policy change is not a new version

    result = issue(later, email="second@example.org")
    assert result.exit_code == 0, result.output
    second = json.loads(result.stdout)
    assert second["credentialSubject"]["creditsEarned"] == 7
    assert second["credentialSubject"]["achievement"]["creditsAvailable"] == 7

    with _rt(later).database.transaction() as session:
        rows = {r.credential_id: r for r in session.scalars(select(Credential))}
    assert rows[first["id"]].document == stored_before  # byte for byte
    assert (rows[first["id"]].pdp_value, rows[second["id"]].pdp_value) == (6, 7)
    report = verify_credential(json.loads(rows[first["id"]].document), documents=_rt(later).identity().documents)
    assert report.verified, [c for c in report.checks if not c.ok]


# ----- files and the web are one path -----

def test_same_content_from_a_file_or_the_web_gives_the_same_version(app: Flask, make_app: Callable[..., Flask],
                                                                     tmp_path: Path) -> None:
    from_file = current(app)
    # Another instance (its own SQLite database) whose files do not hold FIRST: it is created on the web.
    other_files = catalogue_dir(tmp_path / "other-catalog", SECOND)
    other = make_app(instance=str(tmp_path / "other-instance"), database_url=f"sqlite:///{tmp_path}/other.sqlite3",
                     catalog_dir=str(other_files))
    web_edit(other, yaml.safe_load(definition_path(PACKAGE_CATALOG).read_text(encoding="utf-8")))
    from_web = current(other)

    assert [(v, source) for v, source, _ in versions(other)] == [(1, "web")]
    assert from_web.content_hash == from_file.content_hash == load_catalog().badge_classes[FIRST].content_hash
    assert canonical_definition(from_web) == canonical_definition(from_file)
    policy = load_catalog().policy
    pdp = policy.value_on(FIRST, "team", datetime.now(UTC))
    assert to_achievement(from_web, base_url=BASE_URL, pdp=pdp) == to_achievement(from_file, base_url=BASE_URL, pdp=pdp)
