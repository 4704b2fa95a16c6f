"""The `microcred` command line, built on Flask's CLI (so `flask --app issuer ...` works too).

Contract (kept stable): init [--demo], run, catalog list, issue, verify, keys generate|list|rotate|revoke.
"""

from __future__ import annotations

import json
import sys

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from sqlalchemy.exc import SQLAlchemyError

from keys import KeyStoreError

from . import create_app
from .accounts import ensure_demo_accounts
from .config import secret_key
from .errors import IssuerError
from .runtime import runtime
from .verify_command import verify_command


def register(app: Flask) -> None:
    """Attach every command to the app's CLI."""
    app.cli.add_command(init_command)
    app.cli.add_command(catalog_group)
    app.cli.add_command(issue_command)
    app.cli.add_command(verify_command)
    app.cli.add_command(keys_group)


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
    secret_key(settings, create=True)
    try:
        rt.database.upgrade()
        from .identity import IssuerIdentity

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
    click.echo(f"Catalogue: {len(rt.catalog)} badge class(es)")
    if demo:
        with rt.database.transaction() as session:
            logins = ensure_demo_accounts(session, settings.secrets_dir / "demo-logins.json")
        click.echo("Demo accounts (email / password / roles):")
        for email, password, roles in logins:
            click.echo(f"  {email}  {password}  {', '.join(roles)}")


@click.group("catalog")
def catalog_group() -> None:
    """The micro-credential catalogue."""


@catalog_group.command("list")
@with_appcontext
def catalog_list() -> None:
    """One badge class per line: slug, version, title."""
    for badge in sorted(runtime().catalog.values(), key=lambda b: b.slug):
        click.echo(f"{badge.slug}\tv{badge.version}\t{badge.title}")


@click.command("issue")
@click.option("--achievement", "slug", required=True, help="Slug of the badge class (see `catalog list`).")
@click.option("--recipient-email", required=True)
@click.option("--recipient-name", required=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), help="Write the credential to this file.")
@with_appcontext
def issue_command(slug: str, recipient_email: str, recipient_name: str, out: str | None) -> None:
    """Award a micro-credential directly (administrator): signs, records, prints the credential."""
    from .issuance import issue_credential

    rt = runtime()
    try:
        rt.require_initialised()
        badge = rt.catalog.get(slug)
        if badge is None:
            raise IssuerError(f"No badge class {slug!r}; `microcred catalog list` shows them.", code="unknown_achievement")
        with rt.database.transaction() as session:
            row = issue_credential(session, badge, identity=rt.identity(), recipient_email=recipient_email,
                                   recipient_name=recipient_name, actor="cli:administrator")
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
@with_appcontext
def keys_revoke(key_id: str, reason: str) -> None:
    """Revoke a compromised key: it leaves the DID document; what it signed stops verifying."""
    rt = runtime()
    try:
        store = _store()
        key = store.revoke(key_id, reason)
        with rt.database.transaction() as session:
            from .audit import record_event
            from .models import Credential
            from sqlalchemy import func, select

            affected = session.scalar(select(func.count()).select_from(Credential).where(Credential.key_id == key_id))
            record_event(session, actor="cli:administrator", action="key.revoked", subject=key_id,
                         detail={"reason": reason, "credentials_affected": affected})
    except (KeyStoreError, ValueError) as exc:
        _fail(exc)
    except SQLAlchemyError as exc:
        _database_failed(rt, exc)
    click.echo(f"Revoked {key.key_id}: {reason}. Credentials it signed: {affected} (they no longer verify).")
    click.echo(f"Active key now: {_store().active().key_id}")


def main() -> None:
    """Console script entry point: `microcred`."""
    cli = FlaskGroup(create_app=lambda: create_app(), help="microcred: Open Badges 3.0 micro-credentials.")
    cli.main(args=sys.argv[1:], prog_name="microcred")
