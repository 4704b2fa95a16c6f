"""Web batch jobs of the licensure office: a batch submitted on /licensure/batch runs in a process of its own.

The web side checks the CSV's header and size, stores the inputs in instance/batches/<id>/, records a
BatchJob and starts `microcred verify-batch --job ID` as a separate, detached process (never a thread of
the web server, never a fork of it). That process verifies on every core (verify_batch.run_batch), writes
its progress into the row at most once a second and the two CSVs into the folder. A job whose process
is gone, or that made no progress for `batch_job_stale_minutes`, is read as failed. At most
`batch_jobs_running` jobs run at once; one more is refused (BatchJobsBusy), not queued.
"""

from __future__ import annotations

import contextlib
import csv
import itertools
import os
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ..audit import record_event
from ..config import Settings
from ..db import Database
from ..errors import Conflict, Gone, IssuerError, NotFound, Throttled, Unavailable
from ..models import ACTIVE_BATCH_STATES, BatchJob, User
from .batch import BatchInputError, BatchResult, inspect_csv

ENTRY = "from issuer.cli import main; main()"  # the `microcred` console script, whatever its install path
SECRET_VARIABLES = ("MICROCRED_KEY_PASSPHRASE", "MICROCRED_KEY_PASSPHRASE_FILE")  # verifying needs no signing key

_children: dict[int, subprocess.Popen] = {}  # processes this web process started (polled, so none stays a zombie)
_children_lock = threading.Lock()


class BatchJobError(IssuerError):
    """Base of what the web batches refuse; each error below names its kind first."""

    code = "batch_job_error"


class BatchJobsBusy(Throttled, BatchJobError):
    code = "batch_jobs_busy"


class BatchJobNotFound(NotFound, BatchJobError):
    code = "unknown_batch_job"


class BatchJobNotStarted(Unavailable, BatchJobError):
    code = "batch_job_not_started"


class BatchJobNotFinished(Conflict, BatchJobError):
    code = "batch_job_not_finished"


class BatchJobPurged(Gone, BatchJobError):
    code = "batch_job_purged"


@dataclass(frozen=True)
class JobFiles:
    """Where a job's inputs and results live."""

    folder: Path

    @property
    def input_csv(self) -> Path:
        return self.folder / "input.csv"

    @property
    def files_zip(self) -> Path:
        return self.folder / "files.zip"

    @property
    def rows_csv(self) -> Path:
        return self.folder / "rows.csv"

    @property
    def renewal_csv(self) -> Path:
        return self.folder / "rows.renewal.csv"  # verify_batch.renewal_path(rows_csv)

    @property
    def log(self) -> Path:
        return self.folder / "process.log"


def job_files(settings: Settings, job_id: int) -> JobFiles:
    return JobFiles(settings.instance_dir / "batches" / str(job_id))


# --- the web side ------------------------------------------------------------------------------------


def submit_job(database: Database, settings: Settings, *, user_id: int, csv_name: str, csv_data: bytes,
               zip_name: str | None, zip_stream: BinaryIO | None, now: datetime | None = None) -> int:
    """Check the inputs, store them, record the job and start its process; the job's id.

    Raises BatchInputError (unusable CSV or zip, too many rows), BatchJobsBusy (enough jobs run already),
    BatchJobError (the process could not be started).
    """
    now = now or datetime.now(UTC)
    rows = inspect_csv(csv_data, csv_name)
    if rows > settings.web_batch_max_rows:
        raise BatchInputError(f"The CSV has {rows:,} rows; this page takes at most {settings.web_batch_max_rows:,}. "
                              "Use `microcred verify-batch` for larger batches.")
    if zip_stream is not None and not zipfile.is_zipfile(zip_stream):
        raise BatchInputError(f"{zip_name} is not a zip file.")
    with database.transaction() as session:
        reap_stale(session, settings, now)
        job = BatchJob(status="starting", created_by_id=user_id, csv_name=csv_name[:255],
                       zip_name=zip_name[:255] if zip_name else None, rows_total=rows, created_at=now)
        session.add(job)
        session.flush()
        job_id = job.id
    # Admission after the insert: of the active jobs, the oldest `batch_jobs_running` may run. Two
    # submissions at once both see each other, and only the newer one is refused.
    with database.transaction() as session:
        active = session.scalars(select(BatchJob.id).where(BatchJob.status.in_(ACTIVE_BATCH_STATES))
                                 .order_by(BatchJob.id)).all()
        admitted = job_id in active[:settings.batch_jobs_running]
        if admitted:
            record_event(session, actor=f"user:{user_id}", action="batch_job.started", subject=f"batch_job:{job_id}",
                         detail={"job_id": job_id, "rows": rows, "zip": zip_name is not None})
        else:
            session.execute(delete(BatchJob).where(BatchJob.id == job_id))
    if not admitted:
        raise BatchJobsBusy(f"{settings.batch_jobs_running} batches are running already; this one was not "
                            "started. Submit it again when one of them has finished.")
    files = job_files(settings, job_id)
    try:
        _store(files, csv_data, zip_stream)
        pid = _launch(settings, job_id, files, with_zip=zip_stream is not None)
    except OSError as exc:
        reason = f"The batch process could not be started: {exc.strerror or type(exc).__name__}."
        with database.transaction() as session:
            fail_job(session, job_id, reason, datetime.now(UTC))
        raise BatchJobNotStarted(reason) from None
    with database.transaction() as session:  # so a process that dies before it begins is noticed at once
        session.execute(update(BatchJob).where(BatchJob.id == job_id, BatchJob.status == "starting",
                                               BatchJob.pid.is_(None)).values(pid=pid, host=socket.gethostname()))
    return job_id


def _store(files: JobFiles, csv_data: bytes, zip_stream: BinaryIO | None) -> None:
    files.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    files.input_csv.write_bytes(csv_data)
    if zip_stream is not None:
        zip_stream.seek(0)
        with open(files.files_zip, "wb") as out:
            shutil.copyfileobj(zip_stream, out)


def child_environment(settings: Settings) -> dict[str, str]:
    """The environment of a job's process: this app's settings as MICROCRED_* variables (no key passphrase)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MICROCRED_")}
    env.update({k: v for k, v in settings.environ.items() if k.startswith("MICROCRED_")})
    values = {"INSTANCE": str(settings.instance_dir), "DATABASE_URL": settings.database_url,
              "BASE_URL": settings.base_url, "CATALOG_DIR": str(settings.catalog_dir or "") or None,
              "ISSUER_NAME": settings.issuer_name, "ISSUER_EMAIL": settings.issuer_email,
              "ISSUER_URL": settings.issuer_url, "FETCH_ALLOWED_HOSTS": ",".join(sorted(settings.fetch_allowed_hosts)),
              "FETCH_TIMEOUT": str(settings.fetch_timeout), "FETCH_CA_FILE": settings.fetch_ca_file,
              "OWN_ISSUER_SINCE": settings.own_issuer_since,
              "PDP_THRESHOLDS": settings.pdp_thresholds}
    for name, value in values.items():
        if value:
            env["MICROCRED_" + name] = value
        else:
            env.pop("MICROCRED_" + name, None)
    for name in SECRET_VARIABLES:
        env.pop(name, None)
    env["FLASK_SKIP_DOTENV"] = "1"  # everything it needs is above
    return env


def _launch(settings: Settings, job_id: int, files: JobFiles, *, with_zip: bool) -> int:
    """Start `microcred verify-batch --job ID` detached (own session), its output in process.log; its pid."""
    args = [sys.executable, "-c", ENTRY, "verify-batch", str(files.input_csv), "--out", str(files.rows_csv),
            "--job", str(job_id), "--quiet"]
    if with_zip:
        args += ["--files", str(files.files_zip)]
    if settings.batch_job_workers:
        args += ["--jobs", str(settings.batch_job_workers)]
    with open(files.log, "ab") as log:
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   cwd=files.folder, env=child_environment(settings), start_new_session=True,
                                   close_fds=True)
    with _children_lock:
        _children[process.pid] = process
    return process.pid


def _poll_children() -> None:
    with _children_lock:
        for pid, process in list(_children.items()):
            if process.poll() is not None:
                del _children[pid]


def _process_alive(pid: int) -> bool:
    with _children_lock:
        if pid in _children:
            return _children[pid].poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie answers signals but runs no more (Linux)
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def stop_children(timeout: float = 10.0) -> None:
    """Stop every job process this process started, with its workers (at shutdown, or after a test)."""
    with _children_lock:
        processes = list(_children.values())
        _children.clear()
    for process in processes:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                os.killpg(process.pid, 15)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def _aware(moment: datetime | None) -> datetime | None:
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite: naive UTC


def reap_stale(session: Session, settings: Settings, now: datetime) -> None:
    """Read active jobs whose process is gone, or that stopped making progress, as failed."""
    _poll_children()
    here = socket.gethostname()
    stale_after = timedelta(minutes=settings.batch_job_stale_minutes)
    for job in session.scalars(select(BatchJob).where(BatchJob.status.in_(ACTIVE_BATCH_STATES))).all():
        reason = None
        if job.pid and job.host == here and not _process_alive(job.pid):
            reason = (f"The batch process stopped unexpectedly (process {job.pid} is gone) after "
                      f"{job.rows_done:,} of {job.rows_total:,} rows. Submit the batch again.")
        else:
            last = _aware(job.heartbeat_at or job.started_at or job.created_at)
            if last is not None and now - last > stale_after:
                reason = (f"The batch made no progress for {settings.batch_job_stale_minutes} minutes after "
                          f"{job.rows_done:,} of {job.rows_total:,} rows; its process is treated as dead. "
                          "Submit the batch again.")
        if reason is not None:
            done = session.execute(update(BatchJob).where(BatchJob.id == job.id, BatchJob.rows_done == job.rows_done,
                                                          BatchJob.status.in_(ACTIVE_BATCH_STATES))
                                   .values(status="failed", error=reason, finished_at=now))
            if done.rowcount:
                record_event(session, actor="system:batch", action="batch_job.failed", subject=f"batch_job:{job.id}",
                             detail={"job_id": job.id, "rows_done": job.rows_done, "reason": "process_lost"})
            session.expire(job)


def get_job(session: Session, settings: Settings, job_id: int, now: datetime | None = None) -> BatchJob:
    """A job, its state brought up to date; BatchJobNotFound."""
    reap_stale(session, settings, now or datetime.now(UTC))
    job = session.get(BatchJob, job_id)
    if job is None:
        raise BatchJobNotFound("There is no batch with this number.")
    return job


def recent_jobs(session: Session, settings: Settings, limit: int = 20) -> list[tuple[BatchJob, str]]:
    """The newest jobs with who submitted them."""
    reap_stale(session, settings, datetime.now(UTC))
    query = (select(BatchJob, User.display_name).outerjoin(User, User.id == BatchJob.created_by_id)
             .order_by(BatchJob.id.desc()).limit(limit))
    return [(job, name or "") for job, name in session.execute(query).all()]


def purge_expired(session: Session, settings: Settings, now: datetime, days: int | None = None) -> list[int]:
    """Remove the files of jobs that ended more than `days` ago (default: the retention setting).

    The inputs and results hold educators' details and their credentials, which the office keeps
    no longer than it needs; the job's row (who, when, the figures) stays for the record.
    """
    keep = timedelta(days=settings.batch_retention_days if days is None else days)
    ended = select(BatchJob).where(BatchJob.status.in_(("finished", "failed")), BatchJob.purged_at.is_(None),
                                   BatchJob.finished_at.is_not(None), BatchJob.finished_at < now - keep)
    purged = []
    for job in session.scalars(ended).all():
        shutil.rmtree(job_files(settings, job.id).folder, ignore_errors=True)
        job.purged_at = now
        record_event(session, actor="system:retention", action="batch_job.purged", subject=f"batch_job:{job.id}",
                     detail={"job_id": job.id, "kept_days": keep.days})
        purged.append(job.id)
    return purged


# --- the job's own process ---------------------------------------------------------------------------


class JobAbandoned(Conflict, BatchJobError):
    """The job is no longer running in the database (read as failed meanwhile): the process stops."""

    code = "batch_job_abandoned"


def begin_job(session: Session, job_id: int, now: datetime) -> bool:
    """Mark a starting job running in this process; False when it is not waiting to start."""
    result = session.execute(update(BatchJob).where(BatchJob.id == job_id, BatchJob.status == "starting")
                             .values(status="running", pid=os.getpid(), host=socket.gethostname(),
                                     started_at=now, heartbeat_at=now))
    return bool(result.rowcount)


def record_progress(session: Session, job_id: int, done: int, total: int, now: datetime) -> None:
    """Rows done so far (and the heartbeat); JobAbandoned when the job was read as failed meanwhile."""
    result = session.execute(update(BatchJob).where(BatchJob.id == job_id, BatchJob.status == "running")
                             .values(rows_done=done, rows_total=total, heartbeat_at=now))
    if not result.rowcount:
        raise JobAbandoned(f"Batch {job_id} is no longer running; stopping.")


def finish_job(session: Session, job_id: int, result: BatchResult, now: datetime) -> None:
    done = session.execute(update(BatchJob).where(BatchJob.id == job_id, BatchJob.status == "running").values(
        status="finished", rows_done=result.rows, rows_total=result.rows, bad_rows=result.bad_rows,
        verified=result.verified, counted=result.counted, educators=result.educators, heartbeat_at=now,
        finished_at=now))
    if done.rowcount:
        record_event(session, actor="system:batch", action="batch_job.finished", subject=f"batch_job:{job_id}",
                     detail={"job_id": job_id, "rows": result.rows, "bad_rows": result.bad_rows,
                             "educators": result.educators, "counted": result.counted})


def fail_job(session: Session, job_id: int, reason: str, now: datetime) -> None:
    done = session.execute(update(BatchJob).where(BatchJob.id == job_id, BatchJob.status.in_(ACTIVE_BATCH_STATES))
                           .values(status="failed", error=reason, finished_at=now))
    if done.rowcount:
        record_event(session, actor="system:batch", action="batch_job.failed", subject=f"batch_job:{job_id}",
                     detail={"job_id": job_id, "reason": "error"})


def read_results(files: JobFiles, limit: int) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """The first `limit` result rows and educator summaries of a finished job (the CSVs hold all)."""
    return _head(files.rows_csv, limit), _head(files.renewal_csv, limit)


def _head(path: Path, limit: int) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            return list(itertools.islice(csv.DictReader(fh), limit))
    except FileNotFoundError:
        raise BatchJobNotFound("This batch's results are no longer stored.") from None
