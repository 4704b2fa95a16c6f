"""Helpers for tests that share one initialised app per module (`microcred init` costs a second).

A module-scoped fixture cannot use conftest's per-test `database_url` and environment scrub,
so these give it the same: an empty database of its own and no developer settings. On SQLite that
is a new file; on PostgreSQL (MICROCRED_TEST_DATABASE_URL) a new schema in that database, which the
URL's connections use alone (their search_path), so no test's app ever sees another's tables, the
order of tests never matters and two test processes can share one database.
"""

from __future__ import annotations

import importlib
import itertools
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, make_url, text

from issuer import create_app

TEST_DATABASE_ENV = "MICROCRED_TEST_DATABASE_URL"
TEST_PASSPHRASE = "test-passphrase-not-secret"
# Read once, before any test scrubs MICROCRED_* settings: in CI (.ci/run) what a test needs must be there.
REQUIRE_EVERYTHING = bool(os.environ.get("MICROCRED_REQUIRE_BROWSER") or os.environ.get("CI"))


def require_module(name: str, purpose: str) -> Any:
    """Import `name`; without it the test is skipped locally, and fails in CI (as the browser tests do)."""
    try:
        return importlib.import_module(name)
    except ImportError:
        message = f"{name} is not installed ({purpose}; it is in the test extras: pip install -e '.[test]')"
        if REQUIRE_EVERYTHING:
            pytest.fail(message)
        pytest.skip(message)


def scrub_environment(mp: pytest.MonkeyPatch) -> None:
    """No test reads the developer's MICROCRED_* settings (or Flask's .env files) by accident."""
    for name in [n for n in os.environ if n.startswith("MICROCRED_") and n != TEST_DATABASE_ENV]:
        mp.delenv(name)
    for name in ("FLASK_APP", "FLASK_DEBUG", "FLASK_RUN_FROM_CLI"):
        mp.delenv(name, raising=False)
    mp.setenv("FLASK_SKIP_DOTENV", "1")


@contextmanager
def clean_environment() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        scrub_environment(mp)
        yield mp


_serial = itertools.count(1)
_schemas: dict[str, str] = {}  # schema -> the test database's URL, for every schema this process made


def isolated_postgres(url: str) -> str:
    """A new, empty schema in the test database; returns the URL whose connections use only that schema."""
    schema = f"test_{os.getpid()}_{next(_serial)}_{secrets.token_hex(4)}"
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()
    _schemas[schema] = url
    return make_url(url).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False)


def drop_schema(isolated_url: str) -> None:
    """Drop the schema an isolated_postgres URL names (and everything in it)."""
    schema = make_url(isolated_url).query["options"].removeprefix("-csearch_path=")
    _drop(schema)


def schemas_made() -> set[str]:
    return set(_schemas)


def drop_all_schemas(*, keep: frozenset[str] | set[str] = frozenset()) -> None:
    """Drop every schema this process made that is still there, but those in `keep`."""
    for schema in [s for s in _schemas if s not in keep]:
        _drop(schema)


def _drop(schema: str) -> None:
    engine = create_engine(_schemas[schema])
    try:
        with engine.begin() as connection:
            # A connection some test leaked would block DROP SCHEMA: fail fast instead of hanging.
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()
    del _schemas[schema]


def empty_database(directory: Path) -> str:
    """A schema of its own in MICROCRED_TEST_DATABASE_URL's database when it is set, else a new SQLite file."""
    url = os.environ.get(TEST_DATABASE_ENV)
    if not url:
        return f"sqlite:///{directory}/test.sqlite3"
    return isolated_postgres(url)


def module_config(tmp_path_factory: pytest.TempPathFactory, name: str, **overrides: Any) -> dict[str, Any]:
    """The configuration of a module's own instance and empty database."""
    directory = tmp_path_factory.mktemp(name)
    return {"instance": str(directory / "instance"), "database_url": empty_database(directory),
            "key_passphrase": TEST_PASSPHRASE, "TESTING": True, **overrides}


def initialised_app(config: dict[str, Any]) -> Flask:
    """An app on `config` after `microcred init` (call it inside clean_environment())."""
    application = create_app(config)
    result = application.test_cli_runner().invoke(args=["init"])
    if result.exit_code != 0:
        application.extensions["microcred"].database.dispose()
    assert result.exit_code == 0, (result.output, result.exception)
    return application
