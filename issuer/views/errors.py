"""One error handler family: typed errors become a clear 4xx/5xx, never a traceback."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException

from keys import KeyStoreError

from ..errors import IssuerError

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/ld+json"])
    return request.path.startswith(("/api/", "/.well-known/")) or best in ("application/json", "application/ld+json")


def _answer(status: int, code: str, message: str):
    if _wants_json():
        return jsonify({"error": {"code": code, "message": message}}), status
    return render_template("error.html", status=status, message=message), status


def register(app: Flask) -> None:
    @app.errorhandler(IssuerError)
    def issuer_error(exc: IssuerError):
        return _answer(exc.http_status, exc.code, exc.message)

    @app.errorhandler(KeyStoreError)
    def key_error(exc: KeyStoreError):
        log.error("key store error: %s", exc.code)  # the message never holds secrets, but keep logs terse
        return _answer(503, exc.code, "The issuer's signing key is not available. " + exc.message)

    @app.errorhandler(SQLAlchemyError)
    def database_error(exc: SQLAlchemyError):
        log.error("database error: %s", type(exc).__name__)
        return _answer(503, "database_unavailable", "The service's database is not available or not set up yet "
                       "(an administrator runs `microcred init`). Please try again later.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _answer(exc.code or 500, (exc.name or "error").lower().replace(" ", "_"), exc.description or "")
