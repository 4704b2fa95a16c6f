"""`microcred research-export --out FILE [--year YYYY-YY ...] [--with-comments]`: the research export.

The de-identified research export (docs/programme-data.md) written to a file; audited as made by the command line.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from ..people.districts import check_year, programme_year
from ..programme.research_export import write_file
from ..runtime import runtime


@click.command("research-export")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The zip file to write.")
@click.option("--year", "years", multiple=True, help="Programme year, e.g. 2026-27 (repeat for more; default: this one).")
@click.option("--with-comments", is_flag=True, help="Include survey comments (personal data: they may name people).")
@click.option("--actor", default=lambda: f"cli:{os.environ.get('USER', 'administrator')}", show_default="cli:$USER",
              help="Who is exporting, for the audit log.")
@with_appcontext
def research_export_command(out: Path, years: tuple[str, ...], with_comments: bool, actor: str) -> None:
    """Write the de-identified research export (zip of CSV files and a data dictionary)."""
    rt = runtime()
    now = datetime.now(UTC)
    chosen = sorted({check_year(y) for y in years}) or [programme_year(now.date())]
    rt.require_initialised()
    with rt.database.transaction() as session:
        result = write_file(session, out, settings=rt.settings, years=chosen, actor=actor,
                            include_comments=with_comments, now=now)
    rows = ", ".join(f"{name} {n}" for name, n in result.rows.items())
    click.echo(f"Wrote {out} ({result.size} bytes, sha256 {result.sha256}) for {', '.join(chosen)}: {rows}.")
