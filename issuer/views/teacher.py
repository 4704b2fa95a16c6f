"""The teacher's pages under /my: the dashboard, starting, the work part by part, files, submit, withdraw.

Every rule lives in issuer.workflow.submissions; these views parse, call one service in a transaction and
redirect (PRG). A refused change re-renders the page with a 4xx, an error summary linked to the
fields and exactly what the teacher typed, so a draft is never lost (a stale form included).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, send_file, url_for
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge

from badge_classes.model import PART_KINDS

from ..errors import Forbidden, InternalFailure, UnknownAchievementError
from ..models import OPEN_STATES, Credential, Submission, SubmissionFile
from ..programme import surveys
from ..runtime import runtime
from ..workflow import submissions as service
from ..workflow.eligibility import may_review
from ..workflow.reviews import attempt_feedback
from ..workflow.uploads import PREVIEWABLE, UploadRejected, content_path
from .auth import load_user, roles_required
from .errors import status_for

bp = Blueprint("teacher", __name__)
log = logging.getLogger(__name__)

MiB = 1024 * 1024
REFUSED = (service.SubmissionError, UploadRejected)  # stale forms too: shown on the page, never a bare error
Problems = list[tuple[str, str]]  # (id of the field to fix, message)


@bp.get("/")
@roles_required("teacher")
def dashboard():
    """Work in progress against the limit, feedback waiting, credentials earned, withdrawn work."""
    rt = runtime()
    with rt.database.transaction() as session:
        items = _my_work(session)
        credentials = [{"public_id": c.public_id, "issued_at": c.issued_at, "pdp": c.pdp_value,
                        "title": json.loads(c.document)["credentialSubject"]["achievement"]["name"]}
                       for c in session.scalars(select(Credential).where(or_(
                           Credential.recipient_user_id == g.user.id,
                           Credential.submission_id.in_([i["id"] for i in items])))
                           .order_by(Credential.issued_at.desc()))]
        survey_offers = surveys.offers(session, g.user, settings=rt.settings, today=rt.now().date())
    open_items = [i for i in items if i["state"] in OPEN_STATES]
    return render_template("teacher/dashboard.html", open_items=open_items, credentials=credentials,
                           survey_offers=survey_offers,
                           withdrawn=[i for i in items if i["state"] == "withdrawn"],
                           limit=rt.settings.in_progress_limit)


@bp.post("/start/<slug>")
@roles_required("teacher")
def start(slug: str):
    """Start a micro-credential (the badge page's button); a refusal comes back there as a message."""
    try:
        with runtime().database.transaction() as session:
            work = service.start(session, teacher=g.user, slug=slug, limit=runtime().settings.in_progress_limit)
            submission_id, title = work.submission.id, work.badge.title
    except (service.SubmissionError, Forbidden) as exc:
        flash(f"Not started: {exc.message}", "error")
        return redirect(url_for("catalog.badge", slug=slug))
    flash(f"You started “{title}”. Your work is saved part by part; submit it when every part is done.")
    return redirect(url_for("teacher.submission", submission_id=submission_id))


@bp.get("/submissions/<int:submission_id>")
@roles_required("teacher")
def submission(submission_id: int):
    return _page(submission_id)


@bp.post("/submissions/<int:submission_id>/parts/<part_id>")
@roles_required("teacher")
def save(submission_id: int, part_id: str):
    """Save one part's answers and links (the other parts' forms are untouched)."""
    answers = request.form.getlist("answer")
    links_text = request.form.get("links", "")
    draft = {part_id: {"answers": answers, "links": links_text}}
    field = f"part-{part_id}-form"
    return _change(submission_id, lambda s, w, rev: service.save_part(
        s, w, teacher=g.user, part_id=part_id, answers=answers, links=links_text.splitlines(), revision=rev),
        field=field, done="Saved.", anchor=f"part-{part_id}", drafts=draft)


@bp.post("/submissions/<int:submission_id>/parts/<part_id>/files")
@roles_required("teacher")
def upload(submission_id: int, part_id: str):
    """Store one file in an artifact slot of a part."""
    index = _whole(request.form.get("artifact_index"))
    field = f"file-{part_id}-{index if index is not None else 0}"
    upload = request.files.get("file")
    if index is None or upload is None or not upload.filename:
        return _page(submission_id, status=400, problems=[(field, "Choose a file to upload.")])
    settings = runtime().settings
    return _change(submission_id, lambda s, w, rev: service.add_file(
        s, w, teacher=g.user, part_id=part_id, artifact_index=index, stream=upload.stream, filename=upload.filename,
        revision=rev, max_bytes=settings.max_upload_mb * MiB, uploads_dir=settings.uploads_dir),
        field=field, done=f"Uploaded {upload.filename}.", anchor=f"part-{part_id}")


@bp.post("/submissions/<int:submission_id>/files/<int:file_id>/delete")
@roles_required("teacher")
def remove_file(submission_id: int, file_id: int):
    return _change(submission_id, lambda s, w, rev: service.remove_file(
        s, w, teacher=g.user, file_id=file_id, revision=rev), field=f"remove-{file_id}", done="File removed.")


@bp.post("/submissions/<int:submission_id>/submit")
@roles_required("teacher")
def submit(submission_id: int):
    """Send the work for review; incomplete work comes back with the checklist as the error summary."""
    return _change(submission_id, lambda s, w, rev: service.submit(
        s, w, teacher=g.user, revision=rev, own_district_allowed=runtime().settings.assessor_own_district),
                   field="submit-button", done="Submitted. An assessor will review your work; you will get an "
                                              "email when it is decided.")


@bp.route("/submissions/<int:submission_id>/withdraw", methods=["GET", "POST"])
@roles_required("teacher")
def withdraw(submission_id: int):
    """GET: a confirmation page; POST: withdraw (the work stops counting toward the limit)."""
    if request.method == "GET":
        with runtime().database.transaction() as session:
            work = service.load_own(session, submission_id, g.user)
            return render_template("teacher/withdraw.html", work=work, sub=work.submission)
    revision = _whole(request.form.get("revision"))
    try:
        with runtime().database.transaction() as session:
            work = service.load_own(session, submission_id, g.user)
            service.withdraw(session, work, teacher=g.user, revision=-1 if revision is None else revision)
            title = work.badge.title
    except REFUSED as exc:
        return _page(submission_id, status=status_for(exc), problems=[("work-title", exc.message)])
    flash(f"You withdrew “{title}”. It no longer counts toward your work in progress.")
    return redirect(url_for("teacher.dashboard"))


@bp.get("/files/<int:file_id>")
@roles_required("teacher", "assessor", "admin")
def file(file_id: int):
    """An evidence file for its teacher, an assessor who may review it, or an administrator (else 404).

    Served from the content store under a sandbox policy: an upload never runs script on this site."""
    rt = runtime()
    with rt.database.transaction() as session:
        row = session.get(SubmissionFile, file_id)
        sub = session.get(Submission, row.submission_id) if row is not None else None
        if sub is None or not _may_see(sub):
            raise UnknownAchievementError("There is no such file.")
    path = content_path(rt.settings.uploads_dir, row.sha256)
    if not path.is_file():
        log.error("evidence file %s (sha256 %s) is missing from the upload store", row.id, row.sha256)
        raise InternalFailure("This file is missing from the evidence store; please tell an administrator.",
                              code="evidence_file_missing")
    inline = row.media_type in PREVIEWABLE
    response = send_file(path, mimetype=row.media_type,
                         as_attachment=not inline, download_name=row.filename, etag=row.sha256,
                         conditional=True, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    if row.media_type != "application/pdf":
        # No scripts from uploads. Not for PDFs: browsers refuse to run their PDF viewer in a
        # sandboxed document, and the viewer keeps a PDF's own scripts in its sandbox anyway.
        response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


@bp.errorhandler(RequestEntityTooLarge)
def too_large(_exc: RequestEntityTooLarge):
    """A body over MAX_CONTENT_LENGTH (refused before it is read): the page again, with the limit."""
    limit = runtime().settings.max_upload_mb
    message = f"The file is too large: each file may be at most {limit} MB. Nothing was uploaded."
    args = request.view_args or {}
    if "user" not in g:
        load_user()  # the limit tripped in the CSRF check, before the signed-in user was loaded
    if g.user is None or not g.user.has_role("teacher") or "submission_id" not in args:
        return render_template("error.html", status=413, message=message), 413
    field = f"file-{args['part_id']}-0" if "part_id" in args else "work-title"
    return _page(args["submission_id"], status=413, problems=[(field, message)])


# --- helpers ----------------------------------------------------------------------------------


def _change(submission_id: int, apply: Callable[[Session, service.Work, int], Any], *, field: str, done: str,
            anchor: str = "", drafts: dict[str, dict[str, Any]] | None = None):
    """Run one service call with the form's revision; on success redirect back, else re-render (4xx)."""
    revision = _whole(request.form.get("revision"))
    if revision is None:
        return _page(submission_id, status=400, drafts=drafts,
                     problems=[(field, "The form was incomplete. Reload the page and try again.")])
    try:
        with runtime().database.transaction() as session:
            apply(session, service.load_own(session, submission_id, g.user), revision)
    except service.Incomplete:
        return _page(submission_id, status=400, refused=True)
    except REFUSED as exc:
        return _page(submission_id, status=status_for(exc), problems=[(field, exc.message)], drafts=drafts)
    flash(done)
    return redirect(url_for("teacher.submission", submission_id=submission_id, _anchor=anchor or None))


def _page(submission_id: int, *, status: int = 200, problems: Problems | None = None,
          drafts: dict[str, dict[str, Any]] | None = None, refused: bool = False):
    """The submission page; `drafts` (part id -> what was typed) win over what is saved."""
    with runtime().database.transaction() as session:
        work = service.load_own(session, submission_id, g.user)
        checklist = _checklist(work)
        if refused:
            problems = [(target, f"Not submitted yet: {message}") for target, message in checklist]
        credential = session.scalar(select(Credential).where(Credential.submission_id == submission_id))
        survey = surveys.attempt_offer(session, g.user, submission_id, settings=runtime().settings,
                                      today=runtime().now().date())
        page = render_template(
            "teacher/submission.html", work=work, badge=work.badge, sub=work.submission, problems=problems or [],
            drafts=drafts or {}, checklist=checklist, values=_values(work, drafts or {}), credential=credential,
            editable=work.submission.state in service.EDITABLE, slots=_slots(work.submission),
            attempts=[(a, attempt_feedback(a)) for a in reversed(work.submission.attempts)],
            returned=_returned(work), previewable=PREVIEWABLE, part_kinds=PART_KINDS, saved=_values(work, {}),
            criteria={c.id: c for c in work.badge.criteria}, max_upload_mb=runtime().settings.max_upload_mb,
            survey=survey)
    return page, status


def _checklist(work: service.Work) -> Problems:
    """What is missing, each item with the field to fix. submissions.missing() is asked about one
    piece at a time (a part's questions, then each artifact slot with the others' minimums set to
    zero), so each item gets its field without reading the message."""
    items: Problems = []
    for part in work.badge.parts:
        pieces = [(f"answer-{part.id}-0", replace(part, artifacts=()))]
        pieces += [(f"file-{part.id}-{j}", replace(part, questions=(), word_limit=None, artifacts=tuple(
            art if k == j else replace(art, min_files=0) for k, art in enumerate(part.artifacts))))
            for j in range(len(part.artifacts))]
        for target, piece in pieces:
            alone = replace(work, badge=replace(work.badge, parts=(piece,)))
            items += [(target, message) for message in service.missing(alone)]
    return items


def _values(work: service.Work, drafts: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per part: answers (one per question), the links as text, and the word count."""
    saved = work.submission.answers or {}
    out = {}
    for part in work.badge.parts:
        if part.id in drafts:
            answers, links = list(drafts[part.id]["answers"]), drafts[part.id]["links"]
        else:
            answers, links = list(saved.get(part.id, {}).get("answers", [])), "\n".join(
                saved.get(part.id, {}).get("links", []))
        answers = (answers + [""] * len(part.questions))[:len(part.questions)]
        out[part.id] = {"answers": answers, "links": links, "words": sum(len(a.split()) for a in answers)}
    return out


def _slots(sub: Submission) -> dict[tuple[str, int], list[SubmissionFile]]:
    slots: dict[tuple[str, int], list[SubmissionFile]] = {}
    for row in sub.files:
        slots.setdefault((row.part_id, row.artifact_index), []).append(row)
    return slots


def _returned(work: service.Work) -> tuple[Any, dict[str, Any]] | None:
    """The attempt an assessor returned as "not yet", while the teacher revises it."""
    sub = work.submission
    if sub.state == "not_yet" and sub.attempts and sub.attempts[-1].decision == "not_yet":
        return sub.attempts[-1], attempt_feedback(sub.attempts[-1])
    return None


def _my_work(session: Session) -> list[dict[str, Any]]:
    """The signed-in teacher's submissions, most recently changed first, with their next step."""
    rows = session.scalars(select(Submission).where(Submission.user_id == g.user.id)
                           .order_by(Submission.updated_at.desc(), Submission.id.desc())).all()
    items = []
    for row in rows:
        work = service.load(session, row.id)
        gaps = service.missing(work) if row.state == "draft" else []
        items.append({"id": row.id, "state": row.state, "badge": work.badge, "updated_at": row.updated_at,
                      "submitted_at": row.submitted_at, "gaps": len(gaps)})
    return items


def _may_see(sub: Submission) -> bool:
    user = g.user
    if sub.user_id == user.id or user.has_role("admin"):
        return True
    # Assessors see work once it has been submitted to them, never a draft in progress.
    return user.has_role("assessor") and bool(sub.attempts) and may_review(
        user, sub, own_district_allowed=runtime().settings.assessor_own_district) is None


def _whole(value: str | None) -> int | None:
    """A whole number from a form field, or None."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None

