"""Issued credentials, for administrators: find one, read its status history, revoke / suspend / reinstate.

Every change goes through issuer.credentials.status_lists.change_status (reason required, revocation
final, the status list re-signed in the same transaction); a refused change answers 409 with the page
and the typed reason kept, a missing reason 400.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..catalog.versions import all_current
from ..credentials.status_lists import StatusChangeInvalid, StatusChangeRefused, change_status, find_credential
from ..models import AuditEvent, Credential
from ..runtime import runtime
from .auth import roles_required
from .errors import status_for

bp = Blueprint("admin_credentials", __name__)
STATUSES = ("active", "suspended", "revoked")
ACTIONS = {"revoke": "revoked", "suspend": "suspended", "reinstate": "active"}
DONE = {"revoked": "revoked", "suspended": "suspended", "active": "reinstated"}
LIMIT = 200


@bp.get("/")
@roles_required("admin")
def index():
    """Issued credentials, newest first, narrowed by text, status and badge class."""
    search = request.args.get("q", "").strip()[:200]
    status = request.args.get("status", "")
    slug = request.args.get("badge", "")
    with runtime().database.transaction() as session:
        rows = _search(session, search, status if status in STATUSES else "", slug)
        titles = {b.slug: b.title for b in all_current(session, include_retired=True)}
    return render_template("admin/credentials.html", rows=rows, titles=titles, search=search, status=status,
                           badge=slug, statuses=STATUSES, limit=LIMIT)


@bp.get("/<identifier>")
@roles_required("admin")
def credential(identifier: str):
    """One credential: what it is, its status and history, and the forms that change its status."""
    return _page(identifier)


@bp.post("/<identifier>/status")
@roles_required("admin")
def change(identifier: str):
    """Revoke, suspend or reinstate (form fields `action` and `reason`); CSRF is checked for every POST."""
    action, reason = request.form.get("action", ""), request.form.get("reason", "")
    rt = runtime()
    try:
        if action not in ACTIONS:
            raise StatusChangeInvalid("Choose revoke, suspend or reinstate.")
        with rt.database.transaction() as session:
            row = find_credential(session, identifier)
            change_status(session, row, ACTIONS[action], reason=reason, actor=g.user.email, identity=rt.identity())
            public_id = row.public_id
    except StatusChangeRefused as exc:
        return _page(identifier, error=exc.message, reason=reason, status=status_for(exc))
    flash(f"The credential is {DONE[ACTIONS[action]]}. The published status list says so now; "
          "the teacher has a message in the outbox.")
    return redirect(url_for("admin_credentials.credential", identifier=public_id), 303)


def _page(identifier: str, *, error: str | None = None, reason: str = "", status: int = 200):
    with runtime().database.transaction() as session:
        row = find_credential(session, identifier)  # 404 for an unknown one
        events = _history(session, row.credential_id)
        titles = {b.slug: b.title for b in all_current(session, include_retired=True)}
    document = json.loads(row.document)
    return render_template("admin/credentials_detail.html", row=row, events=events, error=error, reason=reason,
                           title=titles.get(row.achievement_slug, row.achievement_slug),
                           valid_until=document.get("validUntil"),
                           public_url=url_for("credentials.credential", public_id=row.public_id)), status


def _search(session: Session, text: str, status: str, slug: str) -> list[Credential]:
    """At most LIMIT credentials whose recipient, email or ids contain `text` (case-insensitive)."""
    query = select(Credential).order_by(Credential.issued_at.desc(), Credential.id.desc()).limit(LIMIT)
    if text:
        needle = text.lower()
        query = query.where(Credential.recipient_name.icontains(needle, autoescape=True)
                            | Credential.recipient_email.icontains(needle, autoescape=True)
                            | (Credential.credential_id == text) | (Credential.public_id == text))
    if status:
        query = query.where(Credential.status == status)
    if slug:
        query = query.where(Credential.achievement_slug == slug)
    return list(session.scalars(query))


def _history(session: Session, credential_id: str) -> list[dict[str, Any]]:
    """The audit events about this credential, oldest first, with from / to / reason when recorded."""
    events = session.scalars(select(AuditEvent).where(AuditEvent.subject == credential_id)
                             .order_by(AuditEvent.at, AuditEvent.id))
    return [{"at": _utc(e.at), "actor": e.actor, "action": e.action.removeprefix("credential."),
             "from": (e.detail or {}).get("from"), "to": (e.detail or {}).get("to"),
             "reason": (e.detail or {}).get("reason")} for e in events]


def _utc(moment: datetime) -> datetime:
    """The page says UTC: SQLite gives naive UTC, PostgreSQL the session's time zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
