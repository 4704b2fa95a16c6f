"""Published status lists: /status/<list_id>, signed, cacheable by verifiers and CDNs."""

from __future__ import annotations

from flask import Blueprint, Response, request

from ..credentials.status_lists import CACHE_SECONDS, list_credential
from ..runtime import runtime

bp = Blueprint("status", __name__)
MEDIA_TYPES = ["application/vc+ld+json", "application/vc", "application/ld+json", "application/json"]


@bp.get("/status/<list_id>")
def status_list(list_id: str):
    """The BitstringStatusListCredential; 404 for an unknown list."""
    rt = runtime()
    with rt.database.transaction() as session:
        text, etag = list_credential(session, list_id, rt.identity())
    mimetype = request.accept_mimetypes.best_match(MEDIA_TYPES) or MEDIA_TYPES[0]
    response = Response(text, mimetype=mimetype)
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # browser-based verifiers may read it
    response.vary.add("Accept")
    return response.make_conditional(request)
