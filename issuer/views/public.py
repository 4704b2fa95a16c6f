"""Public pages: the home page, the issuer's DID document, health."""

from __future__ import annotations

from collections import Counter

from flask import Blueprint, jsonify, render_template

from badge_classes import PATHWAYS

from ..catalog.versions import all_current
from ..errors import NotFound
from ..runtime import runtime

bp = Blueprint("public", __name__)

YEAR_ONE_CATEGORIES = ("Questioning", "Thinking", "Problem Solving")  # the pilot's first TEAM-aligned set


@bp.get("/")
def home():
    """The programme in brief, with counts from the catalogue in the database and links into it."""
    rt = runtime()
    with rt.database.transaction() as session:
        badges = all_current(session)
    pathways = Counter(b.pathway for b in badges)
    categories = Counter(b.category for b in badges if b.pathway == "team")
    return render_template(
        "public/index.html", settings=rt.settings, total=len(badges),
        pathways=[(code, name, pathways[code]) for code, name in PATHWAYS.items() if pathways[code]],
        year_one=[(name, categories[name]) for name in YEAR_ONE_CATEGORIES if categories[name]])


@bp.get("/.well-known/did.json")
def did_document():
    """The did:web document (active and retired keys; revoked keys removed)."""
    rt = runtime()
    if not rt.settings.base_url:
        raise NotFound(
            "This issuer has no did:web identity: set MICROCRED_BASE_URL to publish one "
            "(without it credentials are issued under did:key).", code="did_web_not_configured",
        )
    response = jsonify(rt.identity().did_document())
    response.mimetype = "application/did+json"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/healthz")
def health():
    rt = runtime()
    rt.require_initialised()
    return jsonify({"status": "ok"})
