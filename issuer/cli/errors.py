"""How a command reports a refusal or a failure: one line naming what to fix, exit code 1, never a traceback.

`guarded` wraps every command of the `microcred` CLI once (issuer/cli/__init__.py), so commands
raise typed errors and leave the wording of database and key-store failures to this module.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click
from flask.cli import ScriptInfo
from sqlalchemy.exc import SQLAlchemyError

from badge_classes import BadgeClassError
from keys import KeyStoreError

from ..errors import IssuerError

EXIT_FAILED = 1  # click.ClickException's code: the command was refused or failed; nothing half-done


def failure(exc: Exception) -> click.ClickException:
    """The one-line message (exit 1) for a typed error, a key store error or a database error."""
    if isinstance(exc, SQLAlchemyError):
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return click.ClickException(f"The database {_database_label()} cannot be used: {reason}")
    if isinstance(exc, BadgeClassError):
        return click.ClickException(f"The catalogue is invalid:\n{exc.message}")
    return click.ClickException(getattr(exc, "message", None) or str(exc))


def guarded(command: click.Command) -> click.Command:
    """`command` (and every subcommand of a group) with typed errors turned into `failure` messages."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            guarded(sub)
    if command.callback is not None and not getattr(command.callback, "_guarded", False):
        command.callback = _guard(command.callback)
    return command


def _guard(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except (IssuerError, KeyStoreError, BadgeClassError, SQLAlchemyError) as exc:
            raise failure(exc) from None

    run._guarded = True  # type: ignore[attr-defined]
    return run


def _database_label() -> str:
    """The database's URL without its user and password (the app is the one this command loaded)."""
    context = click.get_current_context(silent=True)
    info = context.find_object(ScriptInfo) if context is not None else None
    if info is None:
        return "(unknown)"
    return info.load_app().extensions["microcred"].database_label()
