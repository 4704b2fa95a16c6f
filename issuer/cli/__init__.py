"""The `microcred` command line, built on Flask's CLI (so `flask --app issuer ...` works too).

Contract (kept stable): init [--demo], run, catalog list|validate|sync|export|retire|activate, issue, verify,
keys generate|list|rotate|revoke [--reissue], mail send|list|digest|reminders, reissue.
"""

from __future__ import annotations

import sys
from datetime import datetime, timezone

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from sqlalchemy.exc import SQLAlchemyError

from badge_classes import BadgeClassError
from keys import KeyStoreError

from .. import create_app
from ..people.accounts import ensure_demo_accounts, ensure_demo_districts
from ..config import secret_key
from ..errors import IssuerError
from ..runtime import runtime
from .bake import bake_command, unbake_command
from .catalog import catalog_group, sync_files
from .mail import mail_group
from ..people.districts import programme_year
from .research import research_export_command
from .reissue import reissue_command, revoke_key
from .status import reinstate_command, revoke_command, suspend_command
from .verify import verify_command
from .licensure import batches_group, issuers_group, verify_batch_command


def register(app: Flask) -> None:
    """Attach every command to the app's CLI."""
    for command in COMMANDS:
        app.cli.add_command(command)


def _database_failed(rt, exc: Exception) -> None:
    """A database error as one line naming the database (never its password)."""
    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
    raise click.ClickException(f"The database {rt._safe_url()} cannot be used: {reason}")


def _fail(exc: Exception) -> None:
    """Turn a typed error into a one-line message and exit code 1 (never a traceback)."""
    message = getattr(exc, "message", str(exc))
    raise click.ClickException(message)


@click.command("init")
@click.option("--demo", is_flag=True, help="Also create demo accounts and print their logins.")
@with_appcontext
def init_command(demo: bool) -> None:
    """Initialise the instance: migrations, a signing key, the catalogue (idempotent)."""
    rt = runtime()
    settings = rt.settings
    settings.instance_dir.mkdir(parents=True, exist_ok=True)
    settings.uploads_dir.mkdir(parents=True, exist_ok=True)
    current_app.config["SECRET_KEY"] = secret_key(settings, create=True)
    try:
        rt.database.upgrade()
        from ..identity import IssuerIdentity

        identity = IssuerIdentity.open(settings, create_passphrase=True)
        active = identity.store.ensure_active()
        did = identity.did
    except (KeyStoreError, IssuerError) as exc:
        _fail(exc)
    except SQLAlchemyError as exc:
        _database_failed(rt, exc)
    click.echo(f"Instance: {settings.instance_dir}")
    click.echo(f"Database: migrated to the newest schema ({rt._safe_url()})")
    click.echo(f"Signing key: {active.key_id} ({active.public_key_multibase})")
    click.echo(f"Issuer: {did}")
    if not settings.environ.get("MICROCRED_KEY_PASSPHRASE") and not settings.environ.get("MICROCRED_KEY_PASSPHRASE_FILE"):
        click.echo(f"Key passphrase: kept in {settings.secrets_dir / 'key-passphrase'} (mode 0600; "
                   "in production set MICROCRED_KEY_PASSPHRASE or MICROCRED_KEY_PASSPHRASE_FILE instead)")
    try:
        with rt.database.transaction() as session:
            changes = sync_files(session, rt.catalog)
            from ..licensure.trusted_issuers import ensure_own_issuer

            recognised = ensure_own_issuer(session, settings)  # the licensure office recognises us
    except SQLAlchemyError as exc:
        _database_failed(rt, exc)
    added = sum(c.action in ("created", "new_version") for c in changes)
    click.echo(f"Catalogue: {len(rt.catalog.badge_classes)} badge class(es) from {rt.catalog.directory}"
               f" ({added} new or changed)")
    for issuer_id in recognised:
        click.echo(f"Trusted issuers: {issuer_id} recognised (microcred issuers list)")
    if demo:
        with rt.database.transaction() as session:
            logins = ensure_demo_accounts(session, settings.secrets_dir / "demo-logins.json")
            places = ensure_demo_districts(session, year=programme_year(datetime.now(timezone.utc).date()))
        click.echo("Demo districts:")
        for line in places:
            click.echo(f"  {line}")
        # The logins come last: scripts read every line after this header as "email password roles".
        click.echo("Demo accounts (email / password / roles):")
        for email, password, roles in logins:
            click.echo(f"  {email}  {password}  {', '.join(roles)}")


@click.command("issue")
@click.option("--achievement", "slug", required=True, help="Slug of the badge class (see `catalog list`).")
@click.option("--recipient-email", required=True)
@click.option("--recipient-name", required=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write the credential to this file.")
@with_appcontext
def issue_command(slug: str, recipient_email: str, recipient_name: str, out: str | None) -> None:
    """Award a micro-credential directly (administrator): signs, records, prints the credential."""
    from ..catalog.versions import current_badge
    from ..credentials.expiry import valid_until_for
    from ..credentials.issuance import issue_credential

    rt = runtime()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    try:
        rt.require_initialised()
        with rt.database.transaction() as session:
            badge = current_badge(session, slug)
            if badge.status != "active":
                raise IssuerError(f"{slug!r} is retired: it can no longer be earned.", code="badge_class_retired")
            row = issue_credential(session, badge, identity=rt.identity(), policy=rt.catalog.policy,
                                   recipient_email=recipient_email, recipient_name=recipient_name,
                                   actor="cli:administrator", now=now, valid_until=valid_until_for(badge, now))
            if out:
                # Inside the transaction: if the file cannot be written, nothing is stored.
                with open(out, "w", encoding="utf-8") as fh:
                    fh.write(row.document + "\n")
    except (IssuerError, KeyStoreError) as exc:
        _fail(exc)
    except OSError as exc:
        raise click.ClickException(f"Cannot write {out}: {exc.strerror}. Nothing was issued.") from None
    except SQLAlchemyError as exc:
        _database_failed(rt, exc)
    if out:
        click.echo(f"Issued {row.credential_id} to {row.recipient_name}; written to {out}", err=True)
    else:
        click.echo(row.document)


@click.group("keys")
def keys_group() -> None:
    """The issuer's signing keys."""


def _store():
    rt = runtime()
    try:
        return rt.identity().store
    except (IssuerError, KeyStoreError) as exc:
        _fail(exc)


@keys_group.command("list")
@with_appcontext
def keys_list() -> None:
    """Every key: id, status, created, public key."""
    for key in _store().list():
        extra = f"  revoked: {key.revocation_reason}" if key.status == "revoked" else ""
        click.echo(f"{key.key_id}\t{key.status}\t{key.created:%Y-%m-%dT%H:%M:%SZ}\t{key.public_key_multibase}{extra}")


@keys_group.command("generate")
@with_appcontext
def keys_generate() -> None:
    """Create the first signing key (use `rotate` to replace an active one)."""
    try:
        key = _store().generate()
    except KeyStoreError as exc:
        _fail(exc)
    click.echo(f"Generated {key.key_id} (active)")


@keys_group.command("rotate")
@with_appcontext
def keys_rotate() -> None:
    """A new key signs from now on; the old one is retired and still verifies what it signed."""
    try:
        new, retired = _store().rotate()
    except KeyStoreError as exc:
        _fail(exc)
    click.echo(f"Active: {new.key_id}" + (f"; retired: {retired.key_id}" if retired else ""))
    if not runtime().settings.base_url:
        click.echo("Note: without MICROCRED_BASE_URL the issuer is a did:key, so the new key is a new issuer identifier.", err=True)


@keys_group.command("revoke")
@click.argument("key_id")
@click.option("--reason", default="compromised", show_default=True, help="Why the key is revoked.")
@click.option("--reissue", is_flag=True, help="Then re-issue every active credential it signed under the new key "
                                              "(rerun it to finish after a failure: what was done is skipped).")
@with_appcontext
def keys_revoke(key_id: str, reason: str, reissue: bool) -> None:
    """Revoke a compromised key: it leaves the DID document; what it signed stops verifying and is listed
    (docs/key-compromise.md)."""
    revoke_key(key_id, reason, reissue)


COMMANDS = (init_command, catalog_group, issue_command, verify_command, keys_group, mail_group, bake_command,
            unbake_command, revoke_command, suspend_command, reinstate_command, reissue_command,
            verify_batch_command, issuers_group, batches_group, research_export_command)


def _create_app() -> Flask:
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
