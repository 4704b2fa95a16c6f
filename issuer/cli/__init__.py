"""The `microcred` command line, built on Flask's CLI (so `flask --app issuer ...` works too).

Contract (kept stable): init [--demo], run, catalog list|validate|sync|export|retire|activate, issue, verify,
keys generate|list|rotate|revoke [--reissue], mail send|list|digest|reminders, reissue, revoke|suspend|reinstate,
bake|unbake, verify-batch, issuers, batches, research-export. One module per command family; every command
reports typed errors through issuer/cli/errors.py.
"""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import FlaskGroup

from badge_classes import BadgeClassError

from .bake import bake_command, unbake_command
from .catalog import catalog_group
from .credentials import issue_command, reinstate_command, reissue_command, revoke_command, suspend_command
from .errors import guarded
from .instance import init_command
from .keys import keys_group
from .licensure import batches_group, issuers_group, verify_batch_command
from .mail import mail_group
from .research import research_export_command
from .verify import verify_command

COMMANDS = tuple(guarded(command) for command in (
    init_command, catalog_group, issue_command, verify_command, keys_group, mail_group, bake_command,
    unbake_command, revoke_command, suspend_command, reinstate_command, reissue_command,
    verify_batch_command, issuers_group, batches_group, research_export_command))


def register(app: Flask) -> None:
    """Attach every command to the app's CLI."""
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    # The app factory registers these commands (issuer/__init__.py imports this package), so the factory
    # is imported here, when the console script first needs an app: at the top it would be an import cycle.
    from .. import create_app

    try:
        return create_app()
    except BadgeClassError as exc:
        raise click.ClickException(f"The catalogue is invalid; nothing was started:\n{exc.message}") from None


def main() -> None:
    """Console script entry point: `microcred`. Commands are attached to the group itself, so
    `catalog validate` works even when the catalogue (which the app loads) is broken."""
    cli = FlaskGroup(create_app=_create_app, add_default_commands=True,
                     help="microcred: Open Badges 3.0 micro-credentials.")
    for command in COMMANDS:
        cli.add_command(command)
    cli.main(args=sys.argv[1:], prog_name="microcred")
