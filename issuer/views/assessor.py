"""Assessors' pages: the review queue, a submission beside its scoring guide, and the decision.

Every rule lives in issuer.workflow: eligibility (assessor role, never one's own work, optionally never
one's own district) and reviews (the compare-and-set that turns a second click into a 409); these
views parse, call them and render. Reviews are blind by default: while a submission is undecided and
settings.blind_review holds, nothing these pages send names the teacher or their district, not even in
an attribute.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from ..catalog.versions import all_current
from ..models import Credential, District, User
from ..runtime import runtime
from ..workflow import reviews
from ..workflow.submissions import Work, now_utc
from ..workflow.uploads import PREVIEWABLE
from .auth import roles_required

bp = Blueprint("assessor", __name__)

DECIDED = ("earned", "not_yet")
MAX_FEEDBACK_CHARS = 10_000
MAX_AGE_FILTER = 3650


@dataclass(frozen=True)
class QueueFilters:
    """The queue's GET filters; a value that is not a choice is ignored (the district when blind)."""

    badge: str = ""
    district: int | None = None
    older: int | None = None

    @classmethod
    def from_args(cls, args: MultiDict[str, str], *, blind: bool) -> QueueFilters:
        district = _whole(args.get("district", ""), 1, 2**31 - 1)
        return cls(args.get("badge", "").strip()[:80], None if blind else district,
                   _whole(args.get("older", ""), 1, MAX_AGE_FILTER))

    @property
    def active(self) -> bool:
        return bool(self.badge or self.district or self.older)


@dataclass
class Entered:
    """What the assessor typed and chose, kept when the form comes back with problems."""

    levels: dict[str, str] = field(default_factory=dict)
    feedback: dict[str, str] = field(default_factory=dict)
    overall: str = ""
    decision: str = ""

    @classmethod
    def from_form(cls, form: MultiDict[str, str]) -> Entered:
        return cls(levels={k[len("level-"):]: v for k, v in form.items() if k.startswith("level-")},
                   feedback={k[len("feedback-"):]: v for k, v in form.items() if k.startswith("feedback-")},
                   overall=form.get("overall", ""), decision=form.get("decision", ""))

    def too_long(self) -> list[tuple[str, str]]:
        """Problems for feedback longer than anyone needs (the decision is refused, nothing recorded)."""
        texts = [(f"feedback-{cid}", text) for cid, text in self.feedback.items()] + [("overall", self.overall)]
        return [(name, f"Shorten this feedback to at most {MAX_FEEDBACK_CHARS:,} characters.")
                for name, text in texts if len(text) > MAX_FEEDBACK_CHARS]


@bp.get("/")
@roles_required("assessor")
def queue():
    """Submitted work this assessor may judge, oldest first, filtered by GET arguments."""
    rt = runtime()
    blind = rt.settings.blind_review
    filters = QueueFilters.from_args(request.args, blind=blind)
    now = now_utc()
    with rt.database.transaction() as session:
        items = reviews.review_queue(session, assessor=g.user, own_district_allowed=rt.settings.assessor_own_district,
                                     blind=blind, slug=filters.badge or None, district_id=filters.district,
                                     older_than_days=filters.older, now=now)
        badges = [(b.slug, b.title) for b in all_current(session, include_retired=True)]
        districts = [] if blind else [(d.id, d.name) for d in session.scalars(select(District).order_by(District.name))]
    rows = [(item, _age_days(item.submitted_at, now)) for item in items]
    return render_template("assessor/queue.html", rows=rows, filters=filters, blind=blind, badges=badges,
                           districts=districts)


@bp.get("/<int:submission_id>")
@roles_required("assessor")
def review(submission_id: int):
    """The submission part by part beside its criteria, with the decision form (or the decision)."""
    return _render_review(submission_id, Entered())


@bp.post("/<int:submission_id>/decide")
@roles_required("assessor")
def decide(submission_id: int):
    """Record the decision; 400 with everything entered kept, 409 when it was already decided."""
    rt = runtime()
    entered = Entered.from_form(request.form)
    revision = request.form.get("revision", "")
    if not (revision.isascii() and revision.isdigit() and len(revision) < 10):
        abort(400, "The form is incomplete (no revision): reload the submission and decide again.")
    problems = entered.too_long()
    try:
        if problems:
            raise reviews.DecisionInvalid(problems)
        with rt.database.transaction() as session:
            reviews.decide(session, submission_id, assessor=g.user, levels=entered.levels, feedback=entered.feedback,
                           overall=entered.overall, decision=entered.decision, revision=int(revision),
                           identity=rt.identity(), policy=rt.catalog.policy,
                           own_district_allowed=rt.settings.assessor_own_district)
    except reviews.DecisionInvalid as exc:
        return _render_review(submission_id, entered, problems=exc.problems), 400
    except reviews.AlreadyDecided as exc:
        return render_template("assessor/already_decided.html", message=exc.message,
                               submission_id=submission_id), 409
    flash("Your decision is recorded." if entered.decision == "earned"
          else "Your decision is recorded and the feedback was sent to the teacher.")
    return redirect(url_for("assessor.review", submission_id=submission_id))


def _render_review(submission_id: int, entered: Entered, problems: list[tuple[str, str]] | None = None):
    rt = runtime()
    with rt.database.transaction() as session:
        work = reviews.load_for_review(session, submission_id, assessor=g.user,
                                       own_district_allowed=rt.settings.assessor_own_district)
        page = _page(session, work, blind=rt.settings.blind_review)
    field_errors: dict[str, list[str]] = {}
    for name, message in problems or []:
        field_errors.setdefault(name, []).append(message)
    return render_template("assessor/review.html", **page, entered=entered, problems=problems or [],
                           field_errors=field_errors)


def _page(session: Session, work: Work, *, blind: bool) -> dict[str, Any]:
    """Plain values for the review template, read in the caller's transaction."""
    sub, badge = work.submission, work.badge
    attempts = list(sub.attempts)
    current = attempts[-1] if attempts and sub.state in ("submitted", *DECIDED) else None
    page: dict[str, Any] = {
        "badge": badge, "submission_id": sub.id, "state": sub.state, "revision": sub.revision,
        "decided_at": sub.decided_at, "attempt": None, "parts": [], "history": [], "teacher": None,
        "credential": None, "now": now_utc(),
    }
    if current is None:
        return page  # a draft or withdrawn work: not for assessors' eyes
    page["attempt"] = {"number": current.number, "submitted_at": current.submitted_at, "decision": current.decision,
                       "feedback": current.feedback or "", "judgements": reviews.attempt_feedback(current)}
    page["parts"] = _parts(work, current.content or {})
    page["history"] = [{"number": a.number, "submitted_at": a.submitted_at, "decided_at": a.decided_at,
                        "decision": a.decision, "feedback": a.feedback or "",
                        "judgements": reviews.attempt_feedback(a)} for a in attempts if a is not current]
    if sub.state in DECIDED or not blind:
        teacher = session.get(User, sub.user_id)
        district = session.get(District, sub.district_id) if sub.district_id is not None else None
        page["teacher"] = {"name": teacher.display_name, "email": teacher.email,
                           "district": district.name if district else None}
    if sub.state == "earned":
        page["credential"] = session.scalar(select(Credential.public_id).where(Credential.submission_id == sub.id))
    return page


def _parts(work: Work, content: dict[str, Any]) -> list[dict[str, Any]]:
    """Each part with the attempt's answers (beside their questions), links and files by artifact."""
    answers = content.get("answers", {})
    files = content.get("files", [])
    out = []
    for part in work.badge.parts:
        saved = answers.get(part.id, {})
        texts = list(saved.get("answers", []))
        out.append({
            "part": part,
            "answers": [(q, texts[i] if i < len(texts) else "") for i, q in enumerate(part.questions)],
            "links": list(saved.get("links", [])),
            "artifacts": [(art, [_file(f) for f in files if f["part_id"] == part.id and f["artifact_index"] == j])
                          for j, art in enumerate(part.artifacts)],
        })
    return out


def _file(entry: dict[str, Any]) -> dict[str, Any]:
    media_type = entry["media_type"]
    preview = None
    if media_type in PREVIEWABLE:
        preview = "pdf" if media_type == "application/pdf" else "image"
    return {"url": f"{request.script_root}/my/files/{entry['id']}", "filename": entry["filename"],
            "media_type": media_type, "size": _size(entry["size"]), "preview": preview}


def _size(n: int) -> str:
    if n < 1024:
        return f"{n:,} bytes"
    return f"{n / 1024:.1f} KB" if n < 1024 * 1024 else f"{n / (1024 * 1024):.1f} MB"


def _age_days(when: datetime, now: datetime) -> int:
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # SQLite hands back naive UTC datetimes
    return max(0, (now - when).days)


def _whole(text: str, low: int, high: int) -> int | None:
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if low <= value <= high else None
