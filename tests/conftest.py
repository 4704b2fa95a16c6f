"""Shared fixtures: an isolated environment, a fresh database per test, initialised apps.

The suite runs twice in CI: on SQLite (default) and on PostgreSQL when
MICROCRED_TEST_DATABASE_URL is set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test).
With PostgreSQL every test (and every module-scoped app) gets a schema of its own in that database,
dropped afterwards, so tests pass in any order and two runs can share the database.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner

from issuer import create_app

from app_support import (
    TEST_DATABASE_ENV,
    TEST_PASSPHRASE,
    drop_all_schemas,
    drop_schema,
    isolated_postgres,
    schemas_made,
    scrub_environment,
)
from network_guard import guard

DID_WEB_BASE_URL = "https://badges.example.gov"


@pytest.fixture(scope="session", autouse=True)
def _network_guard() -> Iterator[list[str]]:
    """For the whole session (module-scoped fixtures too): connections off this machine are refused."""
    with guard() as attempts:
        yield attempts


@pytest.fixture(autouse=True)
def _stays_on_this_machine(_network_guard: list[str]) -> Iterator[None]:
    """Any connection to an address that is not loopback fails the test (tests/network_guard.py)."""
    yield
    attempts, _network_guard[:] = list(_network_guard), []
    assert attempts == [], f"connections off this machine were attempted: {attempts}"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's MICROCRED_* settings (or Flask's .env files) by accident."""
    scrub_environment(monkeypatch)


@pytest.fixture(scope="module", autouse=True)
def _drop_module_schemas() -> Iterator[None]:
    """The PostgreSQL schemas of a module's shared apps go when the module is done (autouse: set up first,
    so torn down after the module's own fixtures have disposed their engines)."""
    before = schemas_made()
    yield
    drop_all_schemas(keep=before)


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database: PostgreSQL when MICROCRED_TEST_DATABASE_URL is set, else a fresh SQLite file."""
    url = os.environ.get(TEST_DATABASE_ENV)
    if url:
        isolated = isolated_postgres(url)
        yield isolated
        drop_schema(isolated)
    else:
        yield f"sqlite:///{tmp_path}/test.sqlite3"


@pytest.fixture
def key_passphrase() -> str:
    return TEST_PASSPHRASE


@pytest.fixture
def instance_dir(tmp_path: Path) -> Path:
    """The instance directory (not created: `microcred init` creates it)."""
    return tmp_path / "instance"


def run_init(app: Flask, *args: str) -> None:
    result = app.test_cli_runner().invoke(args=["init", *args])
    assert result.exit_code == 0, (result.output, result.exception)


@pytest.fixture
def make_app(instance_dir: Path, database_url: str) -> Iterator[Callable[..., Flask]]:
    """Factory: make_app(initialise=True, **config overrides) -> app; every engine is disposed afterwards."""
    apps: list[Flask] = []

    def make(*, initialise: bool = True, **overrides: Any) -> Flask:
        config: dict[str, Any] = {
            "instance": str(instance_dir),
            "database_url": database_url,
            "key_passphrase": TEST_PASSPHRASE,
            "TESTING": True,
            **overrides,
        }
        app = create_app(config)
        apps.append(app)
        if initialise:
            run_init(app)
        return app

    yield make
    for app in apps:
        app.extensions["microcred"].database.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """An initialised instance whose issuer is a did:key (no base URL)."""
    return make_app()


@pytest.fixture
def did_web_app(make_app: Callable[..., Flask]) -> Flask:
    """An initialised instance published at https://badges.example.gov (issuer did:web)."""
    return make_app(base_url=DID_WEB_BASE_URL)


@pytest.fixture
def uninitialised_app(make_app: Callable[..., Flask]) -> Flask:
    """An app whose instance was never initialised (no `microcred init`)."""
    return make_app(initialise=False)


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def did_web_client(did_web_app: Flask):
    return did_web_app.test_client()


@pytest.fixture
def did_web_runner(did_web_app: Flask) -> FlaskCliRunner:
    return did_web_app.test_cli_runner()
