"""`microcred bake` and `microcred unbake`: a credential into, or out of, a badge image."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from verifier.baking import BakingError, bake_png, bake_svg, is_png, unbake_png, unbake_svg


@click.command("bake")
@click.argument("credential", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--image", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The badge image, PNG or SVG (e.g. /achievements/<slug>/image.png).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Where to write the baked image.")
def bake_command(credential: Path, image: Path, out: Path) -> None:
    """Bake a signed credential (JSON file) into a badge image; re-baking replaces what was there."""
    text = credential.read_text(encoding="utf-8").strip()
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{credential}: not a JSON credential ({exc.msg}).") from None
    data = image.read_bytes()
    try:
        if is_png(data):
            out.write_bytes(bake_png(data, text))
        elif image.suffix.lower() == ".svg" or b"<svg" in data[:65536]:
            out.write_text(bake_svg(data.decode("utf-8"), text), encoding="utf-8")
        else:
            raise BakingError(f"{image} is neither a PNG nor an SVG image.")
    except (BakingError, UnicodeDecodeError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Baked into {out}", err=True)


@click.command("unbake")
@click.argument("image", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def unbake_command(image: Path) -> None:
    """Print the credential baked into a PNG or SVG badge image."""
    data = image.read_bytes()
    try:
        text = unbake_png(data) if is_png(data) else unbake_svg(data)
    except BakingError as exc:
        raise click.ClickException(f"{image}: {exc}") from None
    sys.stdout.write(text + "\n")
