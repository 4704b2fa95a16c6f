"""`microcred verify-batch` and `microcred issuers list|add|end`: the licensure office's commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from ..errors import IssuerError
from ..licensure.batch import BatchContext, BatchInputError, describe_progress, renewal_path, run_batch
from ..licensure.batch_jobs import JobAbandoned, begin_job, fail_job, finish_job, purge_expired, record_progress
from ..licensure.trusted_issuers import add_entry, end_entry, list_entries, our_issuer_ids, registry
from ..licensure.verification import fetch_policy, own_data, renewal_policy
from ..runtime import runtime

JOB_PROGRESS_SECONDS = 1.0  # a web job's record is written at most this often


def _day(_ctx, _param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD).") from None


def batch_context(session, files: str | None, base_dir: str | None) -> BatchContext:
    """The batch's data from this instance: our documents and lists, the registry, the PDP rules."""
    rt = runtime()
    settings = rt.settings
    return BatchContext(own=own_data(session, settings), fetch=fetch_policy(settings),
                        registry=registry(session, settings),
                        policy=renewal_policy(settings, rt.catalog, our_issuer_ids(settings)),
                        files=files, base_dir=base_dir)


@click.command("verify-batch")
@click.argument("input_csv", metavar="INPUT.csv", type=click.Path(dir_okay=False))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Per-row results CSV; the per-educator renewal summary goes beside it (.renewal.csv).")
@click.option("--files", type=click.Path(exists=True, dir_okay=False), help="A zip holding the credential files.")
@click.option("--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: every core).")
@click.option("--quiet", is_flag=True, help="No progress on standard error.")
@click.option("--job", "job_id", type=int, default=None,
              help="The web batch job this run is (the batch page starts it): progress and outcome go to its record, "
                   "and credential names are read from the zip only.")
@with_appcontext
def verify_batch_command(input_csv: str, out: str, files: str | None, jobs: int | None, quiet: bool,
                         job_id: int | None) -> None:
    """Verify a CSV of educators' credentials across every core; exit 2 when the CSV is unusable."""
    rt = runtime()
    if job_id is not None:
        _begin(job_id)
    base_dir = str(Path(input_csv).parent / "no-plain-files") if job_id is not None else \
        (input_csv.rsplit("/", 1)[0] if "/" in input_csv else ".")
    try:
        with rt.database.transaction() as session:
            context = batch_context(session, files, base_dir)
    except SQLAlchemyError as exc:
        _stop(job_id, f"The database cannot be read: {type(exc).__name__}")
    except IssuerError as exc:
        _stop(job_id, exc.message)
    rt.database.dispose()  # workers are forked: no pooled connection crosses into them
    progress = _job_progress(job_id) if job_id is not None else _stderr_progress(quiet)
    renewal_out = renewal_path(out)
    try:
        result = run_batch(input_csv, out, renewal_out, context, jobs=jobs, progress=progress,
                           label=None if job_id is None else "The CSV")
    except JobAbandoned as exc:
        click.echo(exc.message, err=True)
        sys.exit(1)
    except BatchInputError as exc:
        _stop(job_id, f"Cannot run the batch: {exc.message}", code=2)
    except OSError as exc:
        _stop(job_id, f"Cannot write the report: {exc.strerror or exc}", code=2)
    except Exception as exc:
        _stop(job_id, f"The batch stopped on an internal error ({type(exc).__name__}); the log holds the details.",
              code=None)
        raise
    if job_id is not None:
        with rt.database.transaction() as session:
            finish_job(session, job_id, result, datetime.now(UTC))
    click.echo(f"{result.rows:,} rows ({result.bad_rows:,} bad), {result.verified:,} verified, "
               f"{result.counted:,} counted, {result.educators:,} educators in {result.seconds:.1f} s; "
               f"rows: {out}; renewal summaries: {renewal_out}", err=True)


def _begin(job_id: int) -> None:
    with runtime().database.transaction() as session:
        started = begin_job(session, job_id, datetime.now(UTC))
    if not started:
        click.echo(f"Batch job {job_id} is not waiting to start.", err=True)
        sys.exit(2)


def _stop(job_id: int | None, message: str, code: int | None = 1) -> None:
    """Fail the run: the job's record says why (when there is one); exit `code` (None: the caller re-raises)."""
    if job_id is not None:
        db = runtime().database
        with db.transaction() as session:
            fail_job(session, job_id, message, datetime.now(UTC))
        db.dispose()
    if code is None:
        return
    if code == 1:
        raise click.ClickException(message)
    click.echo(message, err=True)
    sys.exit(code)


def _stderr_progress(quiet: bool) -> Callable[[int, int, float], None]:
    last = [0.0]

    def progress(done: int, total: int, seconds: float) -> None:
        if quiet or (seconds - last[0] < 0.5 and done != total):
            return
        last[0] = seconds
        click.echo(f"\r{describe_progress(done, total, seconds)}", err=True, nl=done == total)

    return progress


def _job_progress(job_id: int) -> Callable[[int, int, float], None]:
    """Progress into the job's record at most once a second (and at the end); never before the pool forks."""
    db = runtime().database
    last = [0.0]

    def progress(done: int, total: int, seconds: float) -> None:
        if done == 0 or (seconds - last[0] < JOB_PROGRESS_SECONDS and done != total):
            return
        last[0] = seconds
        with db.transaction() as session:
            record_progress(session, job_id, done, total, datetime.now(UTC))
        db.dispose()  # no pooled connection is inherited by a worker the pool may fork again

    return progress


@click.group("issuers")
def issuers_group() -> None:
    """The licensure office's registry of recognised issuers."""


@issuers_group.command("list")
@with_appcontext
def issuers_list() -> None:
    """Every entry: issuer id, name, since, until."""
    with runtime().database.transaction() as session:
        for row in list_entries(session):
            click.echo(f"{row.issuer_id}\t{row.name}\t{row.since}\t{row.until or '-'}")


@issuers_group.command("add")
@click.argument("issuer_id")
@click.option("--name", required=True)
@click.option("--since", required=True, callback=_day, help="Recognised for credentials earned from (YYYY-MM-DD).")
@click.option("--until", default=None, callback=_day, help="... until (inclusive; default: open-ended).")
@click.option("--note", default="")
@with_appcontext
def issuers_add(issuer_id: str, name: str, since: date, until: date | None, note: str) -> None:
    """Recognise an issuer (a DID or URL)."""
    with runtime().database.transaction() as session:
        add_entry(session, issuer_id=issuer_id, name=name, since=since, until=until, note=note,
                  actor="cli:licensure")
    click.echo(f"Recognised {issuer_id} ({name}) from {since}" + (f" until {until}" if until else ""))


@issuers_group.command("end")
@click.argument("issuer_id")
@click.option("--until", required=True, callback=_day, help="Last day of recognition (inclusive).")
@click.option("--reason", default="")
@with_appcontext
def issuers_end(issuer_id: str, until: date, reason: str) -> None:
    """Stop recognising an issuer after a date; credentials earned until then still count."""
    with runtime().database.transaction() as session:
        end_entry(session, issuer_id, until=until, actor="cli:licensure", reason=reason)
    click.echo(f"{issuer_id} is recognised until {until}")


@click.group("batches")
def batches_group() -> None:
    """The licensure office's web batches."""


@batches_group.command("purge")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Remove the files of batches that ended more than this many days ago "
                   "(default: MICROCRED_BATCH_RETENTION_DAYS).")
@with_appcontext
def purge_batches_command(days: int | None) -> None:
    """Remove expired web batches' inputs and results (run it daily); their records stay."""
    rt = runtime()
    with rt.database.transaction() as session:
        purged = purge_expired(session, rt.settings, datetime.now(UTC), days)
    click.echo(f"Removed the files of {len(purged)} batch(es)" + (f": {', '.join(map(str, purged))}." if purged else "."))
