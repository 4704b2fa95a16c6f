"""`microcred verify [--json] [--recipient EMAIL] FILE|URL|-`: exit 0 verified, 1 not verified, 2 unreadable input.

Any form verify_presented reads: JSON, a baked PNG / SVG, a VC-JWT, an Open Badges 2.0 assertion, or the
URL of a hosted credential (fetched under MICROCRED_FETCH_* rules)."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from keys import KeyStoreError
from verifier import Problem
from verifier.inputs import UnreadableInput, read_presented
from verifier.report import Check, Status, VerificationReport

from ..credentials.status_lists import our_status_lists, status_url
from ..errors import IssuerError
from ..identity import IssuerIdentity
from ..licensure.verification import Verifier, fetch_policy, fetcher_for
from ..runtime import runtime

_SYMBOL = {Status.PASSED: "ok  ", Status.FAILED: "FAIL", Status.WARNING: "warn", Status.SKIPPED: "skip"}


def _read(source: str) -> bytes:
    if source == "-":
        return sys.stdin.buffer.read()
    with open(source, "rb") as fh:
        return fh.read()


def _documents():
    """Our own DID documents when this instance has keys (public data only, no passphrase).

    Fails closed: damaged key files are an error, never a silent skip of our revocations.
    """
    rt = runtime()
    if not rt.settings.keys_dir.exists():
        return None
    return IssuerIdentity.public(rt.settings).documents


def _verify(item, documents, recipient: str | None = None) -> VerificationReport:
    """Verify; our own credentials' keys and status are read from this instance, others' under the fetch rules."""
    rt = runtime()
    fetcher = fetcher_for(fetch_policy(rt.settings))
    if documents is None:
        return Verifier(fetcher=fetcher).verify(item, recipient=recipient)
    try:
        ready = rt.database.is_current()
    except SQLAlchemyError:
        ready = False
    if not ready:  # no status lists to read: the verdict says "status unknown"
        return Verifier(fetcher=fetcher, own_documents=documents).verify(item, recipient=recipient)
    with rt.database.transaction() as session:
        own = our_status_lists(session, IssuerIdentity.public(rt.settings), can_sign=False)
        return Verifier(fetcher=fetcher, own_documents=documents, own_status=own,
                        own_prefix=status_url(rt.settings.public_url, "")).verify(item, recipient=recipient)


def _print(report: VerificationReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False))
        return
    if report.version:
        click.echo(f"Format: {report.version}")
    for check in report.checks:
        click.echo(f"[{_SYMBOL[check.status]}] {check.id}: {check.message}")
    for problem in report.problems:
        click.echo(f"  problem {problem.code}: {problem.detail}")
    click.echo("VERIFIED" if report.verified else "NOT VERIFIED")


@click.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the API's report).")
@click.option("--recipient", default=None, help="Check the credential was issued to this email (or identifier).")
@click.argument("source", metavar="FILE|URL|-")
@with_appcontext
def verify_command(source: str, as_json: bool, recipient: str | None) -> None:
    """Verify a credential from a file, a URL, or standard input with '-'."""
    try:
        document = source if source.lower().startswith(("https://", "http://")) else read_presented(_read(source))
    except OSError as exc:
        _unreadable(as_json, "unreadable_file", "Cannot read the file", f"{source}: {exc.strerror}")
    except UnreadableInput as exc:
        _unreadable(as_json, exc.problem.code, exc.problem.title, exc.problem.detail)
    try:
        documents = _documents()
    except (KeyStoreError, IssuerError) as exc:
        _unreadable(as_json, exc.code, "The instance's key store cannot be read", exc.message)
    report = _verify(document, documents, recipient)
    _print(report, as_json)
    sys.exit(0 if report.verified else 1)


def _unreadable(as_json: bool, code: str, title: str, detail: str) -> None:
    report = VerificationReport((Check("parse", Status.FAILED, detail),),
                                (Problem(code, title, detail),))
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        click.echo(f"Cannot verify: {detail}", err=True)
    sys.exit(2)
