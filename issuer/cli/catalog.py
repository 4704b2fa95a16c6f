"""`microcred catalog ...`: list, validate, sync, export, retire, activate, history."""

from __future__ import annotations

from pathlib import Path

import click
import yaml
from flask.cli import with_appcontext
from sqlalchemy.orm import Session

from badge_classes import Catalog, canonical_definition, load_catalog

from ..catalog.versions import SyncChange, all_current, get_record, history, set_status, sync_catalog, version_image
from ..config import load_settings
from ..runtime import runtime


def sync_files(session: Session, catalog: Catalog, *, force: bool = False, actor: str = "cli:sync") -> list[SyncChange]:
    return sync_catalog(session, catalog, actor=actor, force=force)


def _database(fn):
    """Run `fn(session)` in one transaction of an initialised instance."""
    rt = runtime()
    rt.require_initialised()
    with rt.database.transaction() as session:
        return fn(session)


@click.group("catalog")
def catalog_group() -> None:
    """The micro-credential catalogue (definition files and their versions in the database)."""


@catalog_group.command("validate")
@click.option("--dir", "directory", type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Catalogue directory (default: MICROCRED_CATALOG_DIR or the shipped catalogue).")
def catalog_validate(directory: Path | None) -> None:
    """Check every definition file without starting anything; exit 1 listing each problem."""
    catalog = load_catalog(directory or load_settings().catalog_dir)  # BadgeClassError: cli/errors.py lists it
    by_pathway: dict[str, int] = {}
    for badge in catalog.badge_classes.values():
        by_pathway[badge.pathway_name] = by_pathway.get(badge.pathway_name, 0) + 1
    counts = ", ".join(f"{n} {name}" for name, n in sorted(by_pathway.items()))
    click.echo(f"OK: {len(catalog.badge_classes)} badge classes ({counts}) in {catalog.directory}")


@catalog_group.command("sync")
@click.option("--force", is_flag=True, help="Let changed files win over web edits made since the last sync.")
@with_appcontext
def catalog_sync(force: bool) -> None:
    """Record the definition files in the database: new classes, new versions, status changes."""
    changes = _database(lambda s: sync_files(s, runtime().catalog, force=force))
    for change in changes:
        if change.action != "unchanged":
            click.echo(f"{change.slug}\tv{change.version}\t{change.action}" + (f"\t{change.detail}" if change.detail else ""))
    unchanged = sum(c.action == "unchanged" for c in changes)
    click.echo(f"{len(changes) - unchanged} changed, {unchanged} unchanged.")
    if any(c.action == "conflict" for c in changes):
        raise click.ClickException("Some badge classes were edited on the web and their files changed too; "
                                   "`microcred catalog export` writes the web versions to files for review.")


@catalog_group.command("list")
@click.option("--all", "include_retired", is_flag=True, help="Include retired badge classes.")
@with_appcontext
def catalog_list(include_retired: bool) -> None:
    """One badge class per line: slug, version, status, title."""
    for badge in _database(lambda s: all_current(s, include_retired=include_retired)):
        click.echo(f"{badge.slug}\tv{badge.version}\t{badge.status}\t{badge.title}")


@catalog_group.command("history")
@click.argument("slug")
@with_appcontext
def catalog_history(slug: str) -> None:
    """Every version of a badge class, newest first."""
    for v in _database(lambda s: history(s, slug)):
        click.echo(f"v{v['version']}\t{v['created_at']:%Y-%m-%d %H:%M}\t{v['source']}\t{v['created_by']}\t{v['content_hash']}")


@catalog_group.command("export")
@click.option("--dir", "directory", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Write one <slug>.yaml per badge class (and custom images) here.")
@with_appcontext
def catalog_export(directory: Path) -> None:
    """Write the database's current versions as definition files, e.g. to review web edits."""
    def export(session: Session) -> int:
        directory.mkdir(parents=True, exist_ok=True)
        badges = all_current(session, include_retired=True)
        for badge in badges:
            text = yaml.safe_dump(canonical_definition(badge), sort_keys=False, allow_unicode=True, width=100)
            (directory / f"{badge.slug}.yaml").write_text(text, encoding="utf-8")
            image = version_image(session, badge.slug, badge.version)
            if image is not None and badge.image:
                (directory / badge.image).write_bytes(image)
        return len(badges)

    click.echo(f"Wrote {_database(export)} definition(s) to {directory}")


@catalog_group.command("retire")
@click.argument("slug")
@with_appcontext
def catalog_retire(slug: str) -> None:
    """Stop new starts of a badge class; credentials already issued stay valid."""
    _database(lambda s: set_status(s, get_record(s, slug), "retired", actor="cli:administrator"))
    click.echo(f"Retired {slug}: no new starts; issued credentials stay valid.")


@catalog_group.command("activate")
@click.argument("slug")
@with_appcontext
def catalog_activate(slug: str) -> None:
    """Open a retired badge class to new starts again."""
    _database(lambda s: set_status(s, get_record(s, slug), "active", actor="cli:administrator"))
    click.echo(f"Activated {slug}.")
