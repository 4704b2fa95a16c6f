"""OpenID for Verifiable Credential Issuance over HTTP.

`pages`: the teacher's wallet page (/my/credentials/<public_id>/wallet): a button makes an offer,
shown as a QR code, a link and a PIN. `api`: what a wallet calls: the two metadata documents and
the token, nonce and credential endpoints. The API answers JSON with OAuth error codes and is
exempt from CSRF: a wallet is not a browser form, and these endpoints ignore cookies (an access
token or a pre-authorized code is the only authority).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request
from markupsafe import Markup
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from ..credentials.oid4vci import (
    InvalidRequest,
    InvalidToken,
    MissingToken,
    OAuthError,
    authorization_server_metadata,
    create_offer,
    credential_issuer_metadata,
    deliver_credential,
    exchange_code,
    issue_nonce,
    offerable_credential,
    qr_svg,
)
from ..extensions import csrf
from ..models import Credential
from ..runtime import runtime
from .auth import roles_required
from .errors import status_for

pages = Blueprint("wallet", __name__)
api = Blueprint("oid4vci", __name__)
csrf.exempt(api)

T = TypeVar("T")
MAX_REQUEST_BYTES = 64 * 1024
METADATA_CACHE = "public, max-age=300"
_NOT_IN_DESCRIPTION = re.compile(r'[^\x20-\x21\x23-\x5b\x5d-\x7e]')  # RFC 6749 §5.2 error_description


# --- the teacher's page -----------------------------------------------------------------------


@pages.get("/credentials/<public_id>/wallet")
@roles_required("teacher")
def page(public_id: str):
    """What adding the credential to a wallet means, and the button that makes an offer."""
    with runtime().database.transaction() as session:
        title = _title(offerable_credential(session, g.user, public_id))
    return render_template("oid4vci/wallet.html", title=title, public_id=public_id, offer=None)


@pages.post("/credentials/<public_id>/wallet")
@roles_required("teacher")
def offer(public_id: str):
    """Make an offer and show it. Rendered, not redirected: the code and the PIN exist only in this
    answer (the database keeps their hashes), so it must not be cached or sent on as a referrer."""
    settings = runtime().settings
    with runtime().database.transaction() as session:
        title = _title(offerable_credential(session, g.user, public_id))
        new = create_offer(session, g.user, public_id, credential_issuer=settings.public_url,
                           with_tx_code=request.form.get("pin", "on") != "off")
    response = Response(render_template("oid4vci/wallet.html", title=title, public_id=public_id, offer=new,
                                        qr=Markup(qr_svg(new.link))))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _title(row: Credential) -> str:
    return json.loads(row.document)["credentialSubject"]["achievement"]["name"]


# --- what a wallet calls ----------------------------------------------------------------------


@api.before_request
def _small_requests() -> None:
    request.max_content_length = MAX_REQUEST_BYTES  # a token or credential request is a few KB


@api.get("/.well-known/openid-credential-issuer")
def issuer_metadata():
    settings = runtime().settings
    document = credential_issuer_metadata(settings.public_url, issuer_name=settings.issuer_name)
    return _json(document, cache=METADATA_CACHE)


@api.get("/.well-known/oauth-authorization-server")
def authorization_server():
    return _json(authorization_server_metadata(runtime().settings.public_url), cache=METADATA_CACHE)


@api.post("/oid4vci/token")
def token():
    """OID4VCI §6 / RFC 6749 §4.1.3: a form-encoded Token Request with the pre-authorized code."""
    if request.mimetype != "application/x-www-form-urlencoded":
        raise InvalidRequest("The token request must be sent as application/x-www-form-urlencoded.")
    form = request.form.to_dict(flat=False)
    granted = _transaction(lambda session: exchange_code(session, form))
    return _json({"access_token": granted.token, "token_type": "Bearer", "expires_in": granted.expires_in})


@api.post("/oid4vci/nonce")
def nonce():
    """OID4VCI §7: a fresh c_nonce, for anyone (it is signed, not stored)."""
    return _json({"c_nonce": issue_nonce(current_app.config["SECRET_KEY"])})


@api.post("/oid4vci/credential")
def credential():
    """OID4VCI §8: the stored credential, spliced in unchanged (an ldp_vc is a JSON object, §A.1.2.4)."""
    body = request.get_json(silent=True)
    delivery = _transaction(lambda session: deliver_credential(
        session, authorization=request.headers.get("Authorization"), body=body,
        credential_issuer=runtime().settings.public_url, secret_key=current_app.config["SECRET_KEY"]))
    response = Response('{"credentials":[{"credential":' + delivery.document + "}]}", mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


@api.errorhandler(OAuthError)
def oauth_error(exc: OAuthError):
    description = _NOT_IN_DESCRIPTION.sub("?", exc.message)
    response = _json({"error": exc.code, "error_description": description}, status=status_for(exc))
    if isinstance(exc, InvalidToken):
        challenge = f'Bearer realm="{runtime().settings.public_url}"'
        if not isinstance(exc, MissingToken):  # RFC 6750 §3.1: no error code when no token was sent
            challenge += f', error="invalid_token", error_description="{description}"'
        response.headers["WWW-Authenticate"] = challenge
    return response


@api.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    description = _NOT_IN_DESCRIPTION.sub("?", exc.description or exc.name or "")
    return _json({"error": "invalid_request", "error_description": description}, status=exc.code or 400)


def _transaction(work: Callable[[Session], T]) -> T:
    """Run a service call in one transaction. A refusal marked `commit` (a counted wrong PIN) keeps
    its changes; any other refusal rolls back."""
    with runtime().database.transaction() as session:
        try:
            return work(session)
        except OAuthError as exc:
            if not exc.commit:
                raise
            refusal = exc
    raise refusal


def _json(document: Any, *, status: int = 200, cache: str = "no-store") -> Response:
    response = jsonify(document)
    response.status_code = status
    response.headers["Cache-Control"] = cache
    if cache == "no-store":
        response.headers["Pragma"] = "no-cache"  # RFC 6749 §5.1, for HTTP/1.0 caches
    return response
