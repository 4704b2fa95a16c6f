"""`microcred init [--demo]`: migrations, a signing key, the catalogue, the trusted-issuer registry (idempotent)."""

from __future__ import annotations

from datetime import UTC, datetime

import click
from flask import current_app
from flask.cli import with_appcontext

from ..config import Settings, secret_key
from ..identity import IssuerIdentity
from ..licensure.trusted_issuers import ensure_own_issuer
from ..people.accounts import ensure_demo_accounts, ensure_demo_districts
from ..people.districts import programme_year
from ..runtime import Runtime, runtime
from .catalog import sync_files


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
    rt.database.upgrade()
    identity = IssuerIdentity.open(settings, create_passphrase=True)
    active = identity.store.ensure_active()
    did = identity.did
    click.echo(f"Instance: {settings.instance_dir}")
    click.echo(f"Database: migrated to the newest schema ({rt.database_label()})")
    click.echo(f"Signing key: {active.key_id} ({active.public_key_multibase})")
    click.echo(f"Issuer: {did}")
    if not settings.environ.get("MICROCRED_KEY_PASSPHRASE") and not settings.environ.get("MICROCRED_KEY_PASSPHRASE_FILE"):
        click.echo(f"Key passphrase: kept in {settings.secrets_dir / 'key-passphrase'} (mode 0600; "
                   "in production set MICROCRED_KEY_PASSPHRASE or MICROCRED_KEY_PASSPHRASE_FILE instead)")
    with rt.database.transaction() as session:
        changes = sync_files(session, rt.catalog)
        recognised = ensure_own_issuer(session, settings)  # the licensure office recognises us
    added = sum(c.action in ("created", "new_version") for c in changes)
    click.echo(f"Catalogue: {len(rt.catalog.badge_classes)} badge class(es) from {rt.catalog.directory}"
               f" ({added} new or changed)")
    for issuer_id in recognised:
        click.echo(f"Trusted issuers: {issuer_id} recognised (microcred issuers list)")
    if demo:
        _demo(rt, settings)


def _demo(rt: Runtime, settings: Settings) -> None:
    with rt.database.transaction() as session:
        logins = ensure_demo_accounts(session, settings.secrets_dir / "demo-logins.json")
        places = ensure_demo_districts(session, year=programme_year(datetime.now(UTC).date()))
    click.echo("Demo districts:")
    for line in places:
        click.echo(f"  {line}")
    # The logins come last: scripts read every line after this header as "email password roles".
    click.echo("Demo accounts (email / password / roles):")
    for email, password, roles in logins:
        click.echo(f"  {email}  {password}  {', '.join(roles)}")
