"""Public pages: the home page, the issuer's DID document, health."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template

from ..errors import IssuerError
from ..runtime import runtime

bp = Blueprint("public", __name__)


@bp.get("/")
def home():
    rt = runtime()
    return render_template("public/index.html", catalog=rt.catalog.values(), settings=rt.settings)


@bp.get("/.well-known/did.json")
def did_document():
    """The did:web document (active and retired keys; revoked keys removed)."""
    rt = runtime()
    if not rt.settings.base_url:
        raise IssuerError(
            "This issuer has no did:web identity: set MICROCRED_BASE_URL to publish one "
            "(without it credentials are issued under did:key).", code="did_web_not_configured",
        ).with_status(404)
    response = jsonify(rt.identity().did_document())
    response.mimetype = "application/did+json"
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/healthz")
def health():
    rt = runtime()
    rt.require_initialised()
    return jsonify({"status": "ok"})
