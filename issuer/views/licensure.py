"""Pages of the licensure office (/licensure, role licensure or admin) and the public /verify page.

Verify many credentials at once (paste, files, a zip, URLs), a renewal report for an educator
(printable, CSV, audited), batches (CSV + zip) run as jobs by a process of their own (issuer/licensure/batch_jobs.py),
the registry of recognised issuers.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, g, redirect, render_template, request, send_file, url_for
from werkzeug.exceptions import RequestEntityTooLarge

from verifier.renewal import EXCLUSIONS, renewal_report
from verifier.report import Problem

from ..errors import InvalidInput, IssuerError
from ..extensions import verify_limit
from ..licensure.batch_jobs import (
    BatchJobNotFinished,
    BatchJobNotFound,
    BatchJobPurged,
    get_job,
    job_files,
    read_results,
    recent_jobs,
    submit_job,
)
from ..licensure.reports import educator_from, license_types, record_renewal, renewal_csv, verdict
from ..licensure.trusted_issuers import (
    RegistryError,
    add_entry,
    edit_entry,
    end_entry,
    get_entry,
    list_entries,
    our_issuer_ids,
    registry,
)
from ..licensure.verification import (
    Presented,
    expand_upload,
    renewal_policy,
    session_verifier,
    thresholds,
    unreadable_report,
)
from ..models import ACTIVE_BATCH_STATES
from ..runtime import runtime
from .auth import roles_required
from .errors import status_for
from .verify_api import MAX_JSON_BYTES, MAX_UPLOAD_BYTES

public = Blueprint("verify_page", __name__)
bp = Blueprint("licensure", __name__)
STAFF = ("licensure", "admin")
PUBLIC_MAX_BYTES = 10 * 1024 * 1024
STAFF_MAX_BYTES = 50 * 1024 * 1024
MAX_URLS = 50
SHOWN_ROWS = 1000  # a job's page shows this many rows and educators; the CSVs hold every one


@public.before_app_request
def _upload_limits() -> None:
    """Refuse big bodies from their Content-Length, before anything (the CSRF check) reads them."""
    path = request.path
    if path == "/verify":
        request.max_content_length = PUBLIC_MAX_BYTES
    elif path.startswith("/licensure/"):
        request.max_content_length = STAFF_MAX_BYTES
    elif path in ("/api/v1/verify", "/credentials/verify"):
        multipart = (request.mimetype or "").startswith("multipart/")
        request.max_content_length = MAX_UPLOAD_BYTES if multipart else MAX_JSON_BYTES


def _too_large(exc: RequestEntityTooLarge):
    limit = (request.max_content_length or 0) // (1024 * 1024)
    return render_template("error.html", status=413, message=(
        f"The upload is larger than {limit} MB and was not read. A credential is a few kilobytes; a baked "
        f"image at most 10 MB. Split large batches, or use `microcred verify-batch` for big ones.")), 413


public.register_error_handler(RequestEntityTooLarge, _too_large)
bp.register_error_handler(RequestEntityTooLarge, _too_large)


def _gathered(*, allow_many: bool) -> list[Presented]:
    """Pasted text, uploaded files (zips expanded) and URLs from the form, each with its source."""
    items: list[Presented] = []
    pasted = (request.form.get("pasted") or "").strip()
    if pasted:
        items.append(Presented("pasted text", pasted))
    for upload in request.files.getlist("files"):
        if upload.filename:
            items.extend(expand_upload(upload.filename, upload.read()) if allow_many
                         else [Presented(upload.filename, upload.read())])
    urls = [u.strip() for u in (request.form.get("urls") or "").splitlines() if u.strip()]
    for url in urls[:MAX_URLS]:
        items.append(Presented(url, url))
    if len(urls) > MAX_URLS:
        items.append(Presented(f"{len(urls) - MAX_URLS} more URLs", None,
                               Problem("too_many_urls", "Too many URLs", f"At most {MAX_URLS} URLs at once.")))
    return items


def _verified(items: list[Presented], recipient: str | None = None):
    rt = runtime()
    with rt.database.transaction() as session:
        verifier = session_verifier(session, rt.settings)
        known = registry(session, rt.settings)
        results = [(item.source, unreadable_report(item) if item.problem
                    else verifier.verify(item.content, recipient=recipient)) for item in items]
    return results, known


# --- anyone: one credential -------------------------------------------------------------------


@public.route("/verify", methods=["GET", "POST"])
@verify_limit()
def verify_one():
    """Check one credential: paste it, upload it (JSON, PNG, SVG) or give its URL."""
    result, error, status = None, None, 200
    if request.method == "POST":
        items = _gathered(allow_many=False)
        if len(items) != 1:
            error, status = ("Give one credential: paste it, choose its file, or enter its URL." if not items else
                             "Check one credential at a time here (licensure staff can check many)."), 400
        else:
            results, known = _verified(items)
            source, report = results[0]
            result = (source, verdict(report, known), report)
    return render_template("licensure/verify_public.html", result=result, error=error), status


# --- licensure staff ----------------------------------------------------------------------------


@bp.get("/")
@roles_required(*STAFF)
def index():
    return render_template("licensure/index.html")


@bp.route("/verify", methods=["GET", "POST"])
@roles_required(*STAFF)
def verify_many():
    results, error, status = [], None, 200
    if request.method == "POST":
        items = _gathered(allow_many=True)
        if not items:
            error, status = "Paste a credential, choose files, or enter URLs.", 400
        else:
            found, known = _verified(items, (request.form.get("recipient") or "").strip() or None)
            results = [(source, verdict(report, known), report) for source, report in found]
    return render_template("licensure/verify.html", results=results, error=error), status


@bp.route("/renewal", methods=["GET", "POST"])
@roles_required(*STAFF)
def renewal():
    rt = runtime()
    limits = thresholds(rt.settings)
    form = request.form if request.method == "POST" else {}
    report, error, status = None, None, 200
    if request.method == "POST":
        try:
            educator = educator_from(dict(request.form), limits)
        except InvalidInput as exc:
            error, status = exc.message, status_for(exc)
        else:
            items = _gathered(allow_many=True)
            if not items:
                error, status = "Add the credentials the educator presents (files, URLs or pasted JSON).", 400
            else:
                found, known = _verified(items, educator.email)
                policy = renewal_policy(rt.settings, rt.catalog, our_issuer_ids(rt.settings))
                report = renewal_report(educator, found, registry=known, policy=policy)
                as_csv = request.form.get("action") == "csv"
                with rt.database.transaction() as session:
                    record_renewal(session, report, actor=_actor(), output="csv" if as_csv else "page")
                if as_csv:
                    name = _csv_name(educator)
                    return Response(renewal_csv(report), mimetype="text/csv",
                                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
    # The report's CSV travels with the page: a browser does not keep the chosen files for a second post.
    csv_file = (_csv_name(report.educator), renewal_csv(report)) if report else None
    return render_template("licensure/renewal.html", report=report, error=error, form=form, csv_file=csv_file,
                           license_types=license_types(limits), exclusions=EXCLUSIONS), status


def _csv_name(educator) -> str:
    return f"renewal-{educator.license_number}.csv".replace("/", "-")


@bp.route("/batch", methods=["GET", "POST"])
@roles_required(*STAFF)
def batch():
    """The batch form and the office's recent batches; a submitted batch becomes a job run by its own process."""
    rt = runtime()
    error, status = None, 200
    if request.method == "POST":
        upload, archive = request.files.get("csv"), request.files.get("zip")
        if upload is None or not upload.filename:
            error, status = "Choose the CSV of educators and credentials.", 400
        else:
            has_zip = archive is not None and bool(archive.filename)
            try:
                job_id = submit_job(rt.database, rt.settings, user_id=g.user.id, csv_name=upload.filename,
                                    csv_data=upload.read(), zip_name=archive.filename if has_zip else None,
                                    zip_stream=archive.stream if has_zip else None)
            except IssuerError as exc:
                error, status = exc.message, status_for(exc)
            else:
                return redirect(url_for("licensure.batch_job", job_id=job_id))
    with rt.database.transaction() as session:
        jobs = recent_jobs(session, rt.settings)
        session.expunge_all()
    return render_template("licensure/batch.html", jobs=jobs, error=error, limit=rt.settings.web_batch_max_rows,
                           running=rt.settings.batch_jobs_running), status


@bp.get("/batch/<int:job_id>")
@roles_required(*STAFF)
def batch_job(job_id: int):
    """A job's progress (the page refreshes itself while it runs), then its results."""
    rt = runtime()
    with rt.database.transaction() as session:
        job = get_job(session, rt.settings, job_id)
        session.expunge(job)
    rows, summaries = ([], [])
    if job.status == "finished" and job.purged_at is None:
        rows, summaries = read_results(job_files(rt.settings, job_id), SHOWN_ROWS)
    return render_template("licensure/batch_job.html", job=job, rows=rows, summaries=summaries, shown=SHOWN_ROWS,
                           active=job.status in ACTIVE_BATCH_STATES)


@bp.get("/batch/<int:job_id>/<any(rows, renewal):which>.csv")
@roles_required(*STAFF)
def batch_download(job_id: int, which: str):
    """A finished job's per-row results or per-educator renewal summaries."""
    rt = runtime()
    with rt.database.transaction() as session:
        job = get_job(session, rt.settings, job_id)
        finished, purged = job.status == "finished", job.purged_at
    if purged is not None:
        raise BatchJobPurged(f"This batch's results were removed on {purged:%Y-%m-%d} (kept "
                             f"{rt.settings.batch_retention_days} days); submit the batch again.")
    if not finished:
        raise BatchJobNotFinished("This batch has no results to download: it has not finished.")
    files = job_files(rt.settings, job_id)
    path = files.rows_csv if which == "rows" else files.renewal_csv
    if not path.exists():
        raise BatchJobNotFound("This batch's results are no longer stored.")
    return send_file(path, mimetype="text/csv", as_attachment=True,
                     download_name=f"batch-{job_id}-{which}.csv", max_age=0)


# --- the registry of recognised issuers ---------------------------------------------------------


def _dates(form) -> tuple[date, date | None]:
    try:
        since = date.fromisoformat((form.get("since") or "").strip())
        until_text = (form.get("until") or "").strip()
        return since, date.fromisoformat(until_text) if until_text else None
    except ValueError:
        raise RegistryError("Dates are written YYYY-MM-DD (the end date may be left empty).") from None


@bp.route("/issuers", methods=["GET", "POST"])
@roles_required(*STAFF)
def issuers():
    rt = runtime()
    error, status = None, 200
    if request.method == "POST":
        try:
            since, until = _dates(request.form)
            with rt.database.transaction() as session:
                add_entry(session, issuer_id=request.form.get("issuer_id", ""), name=request.form.get("name", ""),
                          since=since, until=until, note=request.form.get("note", ""), actor=_actor())
        except IssuerError as exc:
            error, status = exc.message, status_for(exc)
        else:
            return redirect(url_for("licensure.issuers"))
    with rt.database.transaction() as session:
        rows = list_entries(session)
    return render_template("licensure/issuers.html", rows=rows, error=error, form=request.form,
                           ours=our_issuer_ids(rt.settings)), status


@bp.route("/issuers/<int:entry_id>", methods=["GET", "POST"])
@roles_required(*STAFF)
def issuer_entry(entry_id: int):
    rt = runtime()
    error, status = None, 200
    if request.method == "POST":
        try:
            since, until = _dates(request.form)
            with rt.database.transaction() as session:
                edit_entry(session, entry_id, name=request.form.get("name", ""), since=since, until=until,
                           note=request.form.get("note", ""), actor=_actor())
        except IssuerError as exc:
            error, status = exc.message, status_for(exc)
        else:
            return redirect(url_for("licensure.issuers"))
    with rt.database.transaction() as session:
        row = get_entry(session, entry_id)
        session.expunge(row)
    return render_template("licensure/issuer_entry.html", row=row, error=error), status


@bp.post("/issuers/<int:entry_id>/end")
@roles_required(*STAFF)
def end_issuer(entry_id: int):
    rt = runtime()
    try:
        until = date.fromisoformat((request.form.get("until") or "").strip())
    except ValueError:
        raise RegistryError("The last day of recognition is written YYYY-MM-DD.") from None
    with rt.database.transaction() as session:
        row = get_entry(session, entry_id)
        end_entry(session, row.issuer_id, until=until, actor=_actor(), reason=request.form.get("reason", ""))
    return redirect(url_for("licensure.issuers"))


def _actor() -> str:
    return f"user:{g.user.id}"
