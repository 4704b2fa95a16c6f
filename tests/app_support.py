"""Helpers for tests that share one initialised app per module (`microcred init` costs a second).

A module-scoped fixture cannot use conftest's per-test `database_url` and environment scrub,
so these give it the same: an empty database (PostgreSQL's public schema re-created when
MICROCRED_TEST_DATABASE_URL is set, else a new SQLite file) and no developer settings.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from issuer import create_app

TEST_DATABASE_ENV = "MICROCRED_TEST_DATABASE_URL"
TEST_PASSPHRASE = "test-passphrase-not-secret"


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


def reset_postgres(url: str) -> None:
    """Drop everything in the public schema, so the test starts from an empty database."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            # A connection some earlier test leaked would block DROP SCHEMA: fail fast instead of hanging.
            connection.execute(text("SET LOCAL lock_timeout = '10s'"))
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def empty_database(directory: Path) -> str:
    """PostgreSQL (schema re-created) when MICROCRED_TEST_DATABASE_URL is set, else a new SQLite file."""
    url = os.environ.get(TEST_DATABASE_ENV)
    if not url:
        return f"sqlite:///{directory}/test.sqlite3"
    reset_postgres(url)
    return url


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
