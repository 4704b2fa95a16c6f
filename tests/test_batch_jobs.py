"""Web batch jobs: a batch submitted on /licensure/batch runs in its own process (a real subprocess here),
its page shows progress and then the results; who may see it; a job whose process is gone reads failed;
the limit of running jobs; a bad CSV refused on the form; the audit trail (no credential in it)."""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select
from test_verify_batch import check_mixed_results, mixed_batch

from issuer.licensure.batch_jobs import stop_children
from issuer.models import AuditEvent, BatchJob, User

from licensure_support import EDUCATOR_EMAIL, RecordingServer, csrf_token, issue_ours, make_user, sign_in

HEADER = "name,email,license_number,license_type,license_valid_from,license_valid_until,credential\n"
ROW = f"Pat,{EDUCATOR_EMAIL},TN-1,practitioner,2020-01-01,2035-01-01,c.json\n"
TIMEOUT = 60.0


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Iterator[Flask]:
    application = make_app(fetch_allowed_hosts="127.0.0.1", batch_job_workers=2)
    yield application
    stop_children()  # no job process outlives its test


def _client(app: Flask, *roles: str):
    client = app.test_client()
    if roles:
        sign_in(client, make_user(app, *roles))
    return client


def _submit(client, csv_bytes: bytes, zip_bytes: bytes | None = None, name: str = "in.csv"):
    data = {"csrf_token": csrf_token(client, "/licensure/batch"), "csv": (io.BytesIO(csv_bytes), name)}
    if zip_bytes is not None:
        data["zip"] = (io.BytesIO(zip_bytes), "files.zip")
    return client.post("/licensure/batch", data=data, content_type="multipart/form-data")


def _job(app: Flask, **values) -> int:
    """A job row as a process would leave it (no process is started)."""
    now = datetime.now(UTC)
    fields = {"status": "running", "csv_name": "in.csv", "rows_total": 10, "rows_done": 3, "created_at": now,
              "started_at": now, "heartbeat_at": now, "pid": os.getpid(), "host": socket.gethostname(), **values}
    with app.extensions["microcred"].database.transaction() as session:
        job = BatchJob(**fields)
        session.add(job)
        session.flush()
        return job.id


def _audit(app: Flask, action: str) -> list[AuditEvent]:
    with app.extensions["microcred"].database.transaction() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _wait_until_done(client, page: str) -> str:
    deadline = time.monotonic() + TIMEOUT
    while True:
        text = client.get(page).get_data(as_text=True)
        if "Finished:" in text or "Failed." in text:
            return text
        assert time.monotonic() < deadline, f"the batch did not finish in {TIMEOUT:.0f} s:\n{text}"
        time.sleep(0.3)


def test_a_mixed_batch_runs_in_its_own_process_and_shows_its_results(app: Flask, tmp_path: Path) -> None:
    client = _client(app, "licensure")
    with RecordingServer() as server:
        input_csv, files = mixed_batch(app, tmp_path, server)
        submitted = _submit(client, input_csv.read_bytes(), files.read_bytes(), name="educators.csv")
        assert submitted.status_code == 302, submitted.get_data(as_text=True)
        page = submitted.headers["Location"]
        assert page.startswith("/licensure/batch/")
        text = _wait_until_done(client, page)
        assert server.hits == ["/c.json"]  # the job process fetched; the forbidden host was never asked
    assert "Finished: 12 rows (1 bad)" in text, text
    assert 'http-equiv="refresh"' not in text  # no refresh once finished
    assert "Excluded: Duplicate" in text and "Pat Educator" in text and "Lee Other" in text
    with client.get(page + "/rows.csv") as rows, client.get(page + "/renewal.csv") as summaries:
        assert rows.status_code == summaries.status_code == 200 and rows.mimetype == "text/csv"
        assert "attachment" in rows.headers["Content-Disposition"]
        check_mixed_results(list(csv.DictReader(io.StringIO(rows.get_data(as_text=True)))),
                            list(csv.DictReader(io.StringIO(summaries.get_data(as_text=True)))))
    job_id = int(page.rsplit("/", 1)[1])
    with app.extensions["microcred"].database.transaction() as session:
        job = session.get(BatchJob, job_id)
        assert (job.status, job.rows_done, job.rows_total, job.bad_rows, job.educators) == ("finished", 12, 12, 1, 2)
        assert job.pid and job.started_at and job.finished_at and job.error is None
        user_id = session.scalar(select(User.id).where(User.id == job.created_by_id))
    listing = client.get("/licensure/batch").get_data(as_text=True)
    assert f"#{job_id} educators.csv" in listing and "Test licensure" in listing and "finished" in listing
    started = _audit(app, "batch_job.started")
    assert [(e.actor, e.subject, e.detail) for e in started] == [
        (f"user:{user_id}", f"batch_job:{job_id}", {"job_id": job_id, "rows": 12, "zip": True})]
    assert [e.detail["rows"] for e in _audit(app, "batch_job.finished")] == [12]
    assert (Path(app.instance_path) / "batches" / str(job_id) / "input.csv").read_bytes() == input_csv.read_bytes()


PAGES = ["/licensure/batch/{id}", "/licensure/batch/{id}/rows.csv", "/licensure/batch/{id}/renewal.csv"]


@pytest.mark.parametrize("roles, allowed", [((), None), (("teacher",), False), (("assessor",), False),
                                            (("coordinator",), False), (("licensure",), True), (("admin",), True)])
def test_job_pages_belong_to_the_office(app: Flask, roles: tuple[str, ...], allowed: bool | None) -> None:
    job_id = _job(app)  # running: its page refreshes itself; nothing to download yet
    client = _client(app, *roles)
    for page in PAGES:
        response = client.get(page.format(id=job_id))
        expected = 302 if allowed is None else 403 if not allowed else 200 if page.endswith("}") else 409
        assert response.status_code == expected, (roles, page)
        if allowed is None:
            assert "/login" in response.headers["Location"]
    if allowed:
        text = client.get(f"/licensure/batch/{job_id}").get_data(as_text=True)
        assert '<meta http-equiv="refresh" content="2">' in text
        assert '<progress aria-labelledby="progress-label" max="10" value="3">3 of 10 rows</progress>' in text
        assert "Running: 3 of 10 rows verified" in text
        assert client.get("/licensure/batch/999999").status_code == 404
        assert "not finished" in client.get(f"/licensure/batch/{job_id}/rows.csv").get_data(as_text=True)


def test_a_job_whose_process_is_gone_or_silent_reads_failed(app: Flask) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                              text=True, check=True)
    gone = _job(app, pid=int(finished.stdout))
    silent = _job(app, heartbeat_at=datetime.now(UTC) - timedelta(minutes=11))  # its process (this one) lives
    never = _job(app, status="starting", pid=None, host=None, started_at=None, heartbeat_at=None,
                 created_at=datetime.now(UTC) - timedelta(minutes=11))
    client = _client(app, "licensure")
    text = client.get(f"/licensure/batch/{gone}").get_data(as_text=True)
    assert "Failed." in text and "stopped unexpectedly" in text and "after 3 of 10 rows" in text
    assert 'http-equiv="refresh"' not in text
    assert "no progress for 10 minutes" in client.get(f"/licensure/batch/{silent}").get_data(as_text=True)
    assert "no progress for 10 minutes" in client.get(f"/licensure/batch/{never}").get_data(as_text=True)
    with app.extensions["microcred"].database.transaction() as session:
        states = dict(session.execute(select(BatchJob.id, BatchJob.status)).all())
    assert states == {gone: "failed", silent: "failed", never: "failed"}
    assert sorted(e.detail["job_id"] for e in _audit(app, "batch_job.failed")) == sorted([gone, silent, never])


def test_a_third_running_batch_is_refused(app: Flask) -> None:
    running = [_job(app), _job(app)]  # two live ones (this process stands in for theirs)
    client = _client(app, "licensure")
    refused = _submit(client, (HEADER + ROW).encode())
    assert refused.status_code == 429
    assert "2 batches are running already" in refused.get_data(as_text=True)
    with app.extensions["microcred"].database.transaction() as session:
        assert session.scalars(select(BatchJob.id).order_by(BatchJob.id)).all() == running
    assert _audit(app, "batch_job.started") == []


def test_an_unusable_csv_is_refused_on_the_form(make_app: Callable[..., Flask]) -> None:
    app = make_app(web_batch_max_rows=2)
    client = _client(app, "licensure")
    page = client.get("/licensure/batch").get_data(as_text=True)
    assert "up to 2 rows runs in the background" in page and "No batch yet." in page
    empty = client.post("/licensure/batch", data={"csrf_token": csrf_token(client, "/licensure/batch")},
                        content_type="multipart/form-data")
    assert empty.status_code == 400 and "Choose the CSV" in empty.get_data(as_text=True)
    missing = _submit(client, b"name,email\nPat,x@y.example\n", name="people.csv")
    assert missing.status_code == 400
    assert "people.csv has no column &#39;license_number&#39;" in missing.get_data(as_text=True)
    unreadable = _submit(client, b"\xff\xfe\x00garbage")
    assert unreadable.status_code == 400 and "Cannot read in.csv" in unreadable.get_data(as_text=True)
    too_many = _submit(client, (HEADER + ROW * 3).encode())
    assert too_many.status_code == 400 and "at most 2" in too_many.get_data(as_text=True)
    not_a_zip = _submit(client, (HEADER + ROW).encode(), b"not a zip")
    assert not_a_zip.status_code == 400 and "files.zip is not a zip file" in not_a_zip.get_data(as_text=True)
    no_token = client.post("/licensure/batch", data={"csv": (io.BytesIO((HEADER + ROW).encode()), "in.csv")},
                           content_type="multipart/form-data")
    assert no_token.status_code == 400
    with app.extensions["microcred"].database.transaction() as session:
        assert session.scalars(select(BatchJob)).all() == []
    assert not (Path(app.instance_path) / "batches").exists()


def test_a_renewal_report_is_audited_without_credentials(app: Flask) -> None:
    ours = issue_ours(app, slug="thinking-creative")
    client = _client(app, "licensure")
    form = {"name": "Pat Educator", "email": EDUCATOR_EMAIL, "license_number": "TN-77", "license_type": "practitioner",
            "license_valid_from": "2020-01-01", "license_valid_until": "2035-01-01", "pasted": json.dumps(ours)}
    for action in ("report", "csv"):
        response = client.post("/licensure/renewal", data={**form, "action": action,
                                                           "csrf_token": csrf_token(client, "/licensure/renewal")})
        assert response.status_code == 200
    events = _audit(app, "renewal.report")
    with app.extensions["microcred"].database.transaction() as session:
        user_id = session.scalar(select(User.id).order_by(User.id.desc()))
    assert [(e.actor, e.subject) for e in events] == [(f"user:{user_id}", "license:TN-77")] * 2
    assert events[0].detail == {"license_number": "TN-77", "license_type": "practitioner", "credentials": 1,
                                "counted": 1, "total": 6, "threshold": 30, "met": False, "output": "page"}
    assert events[1].detail["output"] == "csv"
    assert ours["id"] not in json.dumps([e.detail for e in events])


def test_expired_batches_lose_their_files_but_keep_their_record(app: Flask) -> None:
    """Retention: a batch's inputs and results (educators' details, credentials) go after the set days."""
    now = datetime.now(UTC)
    old = _job(app, status="finished", rows_done=10, bad_rows=0, verified=10, counted=8, educators=3,
               finished_at=now - timedelta(days=91))
    recent = _job(app, status="finished", rows_done=10, bad_rows=0, verified=10, counted=8, educators=3,
                  finished_at=now - timedelta(days=89))
    running = _job(app)
    folders = {job: Path(app.instance_path) / "batches" / str(job) for job in (old, recent, running)}
    for folder in folders.values():
        folder.mkdir(parents=True)
        (folder / "rows.csv").write_text("row,counted\n2,yes\n")
        (folder / "rows.renewal.csv").write_text("name\nPat\n")
    result = app.test_cli_runner().invoke(args=["batches", "purge"])  # the default: 90 days
    assert result.exit_code == 0 and f"Removed the files of 1 batch(es): {old}." in result.output
    assert not folders[old].exists() and folders[recent].exists() and folders[running].exists()
    client = _client(app, "licensure")
    page = client.get(f"/licensure/batch/{old}").get_data(as_text=True)
    assert "Finished: 10 rows" in page and "were removed on" in page and "Download the rows" not in page
    gone = client.get(f"/licensure/batch/{old}/rows.csv")
    assert gone.status_code == 410 and "were removed on" in gone.get_data(as_text=True)
    with client.get(f"/licensure/batch/{recent}/rows.csv") as kept:  # a sent file: close it
        assert kept.status_code == 200 and kept.get_data(as_text=True) == "row,counted\n2,yes\n"
    assert [e.detail for e in _audit(app, "batch_job.purged")] == [{"job_id": old, "kept_days": 90}]
    again = app.test_cli_runner().invoke(args=["batches", "purge", "--days", "0"])  # the recent one now too
    assert f"Removed the files of 1 batch(es): {recent}." in again.output and not folders[recent].exists()
