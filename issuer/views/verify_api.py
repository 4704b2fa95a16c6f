"""Verification over HTTP: POST /api/v1/verify and the VC-API's POST /credentials/verify.

POST /api/v1/verify answers the CLI's --json report.

Open to anyone without signing in, rate-limited per client address (licensure staff and
administrators are not limited). JSON APIs without cookies' authority: exempt from CSRF like the
wallet API. Several credentials at once (a zip, several files) need the licensure role.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from marshmallow import INCLUDE, Schema, ValidationError, fields
from werkzeug.exceptions import HTTPException

from ..errors import Forbidden, InvalidInput, IssuerError
from ..extensions import csrf, is_verification_staff, verify_limit
from ..licensure.verification import Presented, expand_upload, session_verifier, unreadable_report
from ..runtime import runtime
from .errors import json_error, status_for

bp = Blueprint("verify_api", __name__)
csrf.exempt(bp)

MAX_JSON_BYTES = 4 * 1024 * 1024  # one credential (a few kB) with room for a baked image as JSON
MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # multipart: files or a zip of them
class ApiError(InvalidInput):
    code = "invalid_request"


class VcApiRequest(Schema):
    """VC-API VerifyCredentialRequest: the credential and options."""

    class Meta:
        unknown = INCLUDE

    verifiableCredential = fields.Raw(required=True)  # the VC-API member name
    options = fields.Dict(load_default=dict)


@bp.before_request
def _size_limits() -> None:
    multipart = (request.mimetype or "").startswith("multipart/")
    request.max_content_length = MAX_UPLOAD_BYTES if multipart else MAX_JSON_BYTES


@bp.errorhandler(IssuerError)
def _issuer_error(exc: IssuerError):
    return json_error(status_for(exc), exc.code, exc.message)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    code = exc.code or 500
    if code == 413:
        message = (f"The request is larger than {request.max_content_length // (1024 * 1024)} MB; "
                   "a credential is a few kilobytes (send files as multipart, at most 20 MB).")
    elif code == 429:
        message = f"Too many verifications from your address ({exc.description}). Wait, then try again."
    else:
        message = exc.description or exc.name
    response = jsonify({"error": {"code": (exc.name or "error").lower().replace(" ", "_"), "message": message}})
    response.status_code = code
    return response  # Flask-Limiter adds Retry-After and the X-RateLimit headers to a 429


def _recipient() -> str | None:
    value = (request.args.get("recipient") or request.form.get("recipient") or "").strip()
    return value[:320] or None


def _presented_items() -> list[Presented]:
    """What the request carries: JSON (a credential, a wrapper or a string), text, or files."""
    if (request.mimetype or "").startswith("multipart/"):
        items: list[Presented] = []
        for upload in request.files.getlist("file") + request.files.getlist("files"):
            items.extend(expand_upload(upload.filename or "upload", upload.read()))
        text = (request.form.get("credential") or "").strip()
        if text:
            items.append(Presented("credential", text))
        if not items:
            raise ApiError("Send the credential as a file field named 'file' (JSON, PNG, SVG or a zip).")
        return items
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise ApiError("The request body is empty: send the credential (JSON), a compact JWS, or a URL.")
    if request.is_json or raw.lstrip()[:1] in (b"{", b"["):
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise ApiError("The request body is not valid JSON.", code="invalid_json") from None
        return [Presented("request", body if isinstance(body, (dict, str)) else raw)]
    return [Presented("request", raw)]


def _verify_items(items: list[Presented]) -> list[tuple[str, Any]]:
    rt = runtime()
    recipient = _recipient()
    with rt.database.transaction() as session:
        verifier = session_verifier(session, rt.settings)
        return [(item.source, unreadable_report(item) if item.problem else
                 verifier.verify(item.content, recipient=recipient)) for item in items]


@bp.post("/api/v1/verify")
@verify_limit()
def verify() -> Response:
    """One credential: its report (the CLI's --json). Several (licensure staff): {"results": [...]}."""
    items = _presented_items()
    if len(items) > 1 and not is_verification_staff():
        raise Forbidden("Several credentials at once need a licensure staff account; send one at a time.",
                        code="batch_needs_licensure")
    results = _verify_items(items)
    if len(results) == 1:
        return jsonify(results[0][1].to_json())
    return jsonify({"results": [{"source": source, **report.to_json()} for source, report in results]})


@bp.post("/credentials/verify")
@verify_limit()
def vc_api_verify():
    """VC-API VerifyCredential: 200 with the VerificationResult when verified, 400 otherwise."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError('Send {"verifiableCredential": ..., "options": {...}} as JSON.')
    try:
        loaded = VcApiRequest().load(body)
    except ValidationError as exc:
        raise ApiError("; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.normalized_messages().items())) from None
    credential = loaded["verifiableCredential"]
    if not isinstance(credential, (dict, str)):
        raise ApiError("verifiableCredential must be a credential (a JSON object) or a VC-JWT string.")
    (_, report), = _verify_items([Presented("verifiableCredential", credential)])
    result = vc_api_result(report)
    return jsonify(result), 200 if result["verified"] else 400


def vc_api_result(report) -> dict[str, Any]:
    """VC-API VerificationResult: passed checks by name, warnings and errors as problem details."""
    def detail(kind: str, title: str, text: str) -> dict[str, str]:
        # A URN, not a URL: the type names our stable problem code and promises no page behind it.
        return {"type": f"urn:microcred:problem:{kind}", "code": kind, "title": title, "detail": text}

    checks = [c.id for c in report.checks if c.status.value == "passed"]
    warnings = [detail(c.id, f"{c.id} not confirmed", c.message) for c in report.checks if c.status.value == "warning"]
    errors = [detail(p.code, p.title, p.detail) for p in report.problems]
    errors += [detail(c.id, f"{c.id} failed", c.message) for c in report.checks
               if not c.ok and not any(p.detail == c.message for p in report.problems)]
    result = {"verified": report.verified, "checks": checks, "warnings": warnings, "errors": errors}
    if current_app.debug:
        result["report"] = report.to_json()
    return result
