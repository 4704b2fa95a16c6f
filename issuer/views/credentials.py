"""A credential's public page at its unguessable address, and the signed document itself.

The page shows what the credential says and the verification of the stored document, check by
check. Asked for JSON (Accept), the answer is the stored text byte for byte: nothing is rebuilt.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, g, render_template, request
from sqlalchemy import select

from verifier import verify_credential
from verifier.status import status_list_checker

from ..credentials.sharing import display_name, linkedin_fields, public_url
from ..credentials.status_lists import our_status_lists
from ..errors import NotFound
from ..models import Credential
from ..runtime import runtime

bp = Blueprint("credentials", __name__)

HTML, VC_LD_JSON, LD_JSON, JSON = "text/html", "application/vc+ld+json", "application/ld+json", "application/json"
CHECK_NAMES = {"parse": "Readable credential", "context": "Open Badges vocabulary", "schema": "Open Badges format",
               "proof": "Signature", "issuer": "Issuer", "validity": "Dates", "status": "Revocation",
               "recipient": "Recipient"}
STATUS_WORDS = {"passed": "Passed", "failed": "Failed", "warning": "Note", "skipped": "Not checked"}


@bp.get("/credentials/<public_id>")
def credential(public_id: str):
    """The credential page, or the signed document when JSON or JSON-LD is asked for."""
    row = _find(public_id)
    kind = request.accept_mimetypes.best_match([HTML, VC_LD_JSON, LD_JSON, JSON], default=HTML)
    if kind != HTML:
        response = Response(row.document.encode("utf-8"), mimetype=kind)
        response.vary.add("Accept")
        return response
    document = json.loads(row.document)
    report = _verify(document)
    rt = runtime()
    share = {"url": public_url(rt.settings.public_url, row), "name": display_name(row),
             "preview": f"{rt.settings.public_url}/achievements/{row.achievement_slug}/v/{row.achievement_version}"
                        "/image.png",
             "evidence": [e for e in document.get("evidence", []) if e.get("id") in (row.shown_evidence or [])],
             "linkedin": linkedin_fields(row, document, base_url=rt.settings.public_url,
                                         organization_id=rt.settings.linkedin_organization_id),
             "owner": g.get("user") is not None and g.user.id == row.recipient_user_id}
    response = Response(render_template("credentials/credential.html", row=row, facts=_facts(document),
                                        report=report, check_names=CHECK_NAMES, status_words=STATUS_WORDS,
                                        share=share))
    response.vary.add("Accept")
    response.headers["Referrer-Policy"] = "no-referrer"  # the address is the credential's only secret
    if not row.indexable:
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/credentials/<public_id>/credential.json")
def download(public_id: str):
    """The signed document as a file to keep (byte for byte as stored)."""
    row = _find(public_id)
    response = Response(row.document.encode("utf-8"), mimetype=JSON)
    response.headers["Content-Disposition"] = 'attachment; filename="credential.json"'
    return response


def _find(public_id: str) -> Credential:
    """The credential with this public id; 404 when there is none, or when it is private and the
    visitor is not its owner (the answer is the same, so existence is not revealed)."""
    row = None
    if len(public_id) <= 64:
        with runtime().database.transaction() as session:
            row = session.scalar(select(Credential).where(Credential.public_id == public_id))
    viewer = g.get("user")
    if row is not None and row.visibility != "public" and (viewer is None or viewer.id != row.recipient_user_id):
        row = None
    if row is None:
        raise NotFound("There is no credential at this address.", code="unknown_credential")
    return row


def _facts(document: dict[str, Any]) -> dict[str, Any]:
    """What the page shows, read from the signed document (what anyone verifying it sees)."""
    subject = document.get("credentialSubject") or {}
    achievement = subject.get("achievement") or {}
    issuer = document.get("issuer") or {}
    return {"title": achievement.get("name", ""), "recipient": subject.get("name", ""),
            "description": achievement.get("description", ""),
            "issuer": issuer.get("name", "") if isinstance(issuer, dict) else str(issuer),
            "issuer_url": issuer.get("url") if isinstance(issuer, dict) else None,
            "pdp": subject.get("creditsEarned"), "valid_from": document.get("validFrom", ""),
            "achievement_id": achievement.get("id"),
            "alignments": [a for a in achievement.get("alignment", []) if isinstance(a, dict)],
            "criteria": [d.get("name") for d in achievement.get("resultDescription", [])
                         if isinstance(d, dict) and d.get("resultType") == "RubricCriterionLevel"]}


def _verify(document: dict):
    """The live verdict, status read from this issuer's own published list."""
    rt = runtime()
    identity = rt.identity()
    now = datetime.now(UTC)
    with rt.database.transaction() as session:
        checker = status_list_checker(our_status_lists(session, identity), documents=identity.documents, now=now)
        return verify_credential(document, now=now, documents=identity.documents, status_checker=checker)
