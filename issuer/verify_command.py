"""`microcred verify [--json] FILE|-`: exit 0 verified, 1 not verified, 2 unreadable input."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from verifier import Problem, verify_credential
from verifier.inputs import UnreadableInput, parse_credential_bytes
from verifier.report import Check, Status, VerificationReport
from verifier.status import status_list_checker

from keys import KeyStoreError

from .errors import IssuerError
from .identity import IssuerIdentity
from .runtime import runtime
from .status import our_status_lists

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


def _verify(document, documents) -> VerificationReport:
    """Verify; our own credentials' status is read from this instance's signed lists."""
    rt = runtime()
    now = datetime.now(timezone.utc)
    if documents is None:
        return verify_credential(document, now=now)
    try:
        ready = rt.database.is_current()
    except SQLAlchemyError:
        ready = False
    if not ready:  # no status lists to read: the verdict says "status unknown"
        return verify_credential(document, now=now, documents=documents)
    with rt.database.transaction() as session:
        fetch = our_status_lists(session, IssuerIdentity.public(rt.settings), can_sign=False)
        checker = status_list_checker(fetch, documents=documents, now=now)
        return verify_credential(document, now=now, documents=documents, status_checker=checker)


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
@click.argument("source", metavar="FILE|-")
@with_appcontext
def verify_command(source: str, as_json: bool) -> None:
    """Verify a credential from a file, or from standard input with '-'."""
    try:
        document = parse_credential_bytes(_read(source))
    except OSError as exc:
        _unreadable(as_json, "unreadable_file", "Cannot read the file", f"{source}: {exc.strerror}")
    except UnreadableInput as exc:
        _unreadable(as_json, exc.problem.code, exc.problem.title, exc.problem.detail)
    try:
        documents = _documents()
    except (KeyStoreError, IssuerError) as exc:
        _unreadable(as_json, exc.code, "The instance's key store cannot be read", exc.message)
    report = _verify(document, documents)
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
