"""The one map from error kinds to HTTP statuses, and the app-wide handlers: a clear 4xx/5xx, never a traceback.

Pages that show an error inside themselves (a form kept as typed) ask `status_for` for the status;
everything else reaches the handlers below, which answer {"error": {"code", "message"}} to JSON
clients and the error page to browsers. The wallet API keeps its OAuth shape (views/oid4vci.py).
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from keys import KeyStoreError

from ..errors import (
    Conflict,
    Forbidden,
    Gone,
    InternalFailure,
    InvalidInput,
    IssuerError,
    NotAuthenticated,
    NotFound,
    Throttled,
    TooLarge,
    Unavailable,
    kind_of,
)

log = logging.getLogger(__name__)

HTTP_STATUS: dict[type[IssuerError], int] = {
    InvalidInput: 400,
    NotAuthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Gone: 410,
    TooLarge: 413,
    Throttled: 429,
    InternalFailure: 500,
    Unavailable: 503,
}


def status_for(error: IssuerError) -> int:
    """The HTTP status of an error, by its kind (an error of no kind is a bad request)."""
    return HTTP_STATUS.get(kind_of(error), 400)


def wants_json() -> bool:
    """True for API paths and clients that prefer JSON (JSON-LD) to HTML."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/ld+json"])
    return request.path.startswith(("/api/", "/.well-known/")) or best in ("application/json", "application/ld+json")


def json_error(status: int, code: str, message: str) -> ResponseReturnValue:
    """Our JSON error shape: {"error": {"code", "message"}}."""
    return jsonify({"error": {"code": code, "message": message}}), status


def _answer(status: int, code: str, message: str) -> ResponseReturnValue:
    if wants_json():
        return json_error(status, code, message)
    return render_template("error.html", status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(IssuerError)
    def issuer_error(exc: IssuerError) -> ResponseReturnValue:
        return _answer(status_for(exc), exc.code, exc.message)

    @app.errorhandler(KeyStoreError)
    def key_error(exc: KeyStoreError) -> ResponseReturnValue:
        log.error("key store error: %s", exc.code)  # the message never holds secrets, but keep logs terse
        return _answer(503, exc.code, "The issuer's signing key is not available. " + exc.message)

    @app.errorhandler(SQLAlchemyError)
    def database_error(exc: SQLAlchemyError) -> ResponseReturnValue:
        log.error("database error: %s", type(exc).__name__)
        return _answer(503, "database_unavailable", "The service's database is not available or not set up yet "
                       "(an administrator runs `microcred init`). Please try again later.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        return _answer(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")
