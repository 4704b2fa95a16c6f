"""Blueprints, one per audience, and the order the app registers them in (with CSRF and the limiter)."""

from __future__ import annotations

from flask import Flask

from ..extensions import csrf, limiter
from . import (
    admin,
    admin_credentials,
    assessor,
    auth,
    catalog,
    credentials,
    dashboards,
    errors,
    headers,
    licensure,
    oid4vci,
    people,
    public,
    sharing,
    status,
    surveys,
    teacher,
    verify_api,
)


def register(app: Flask) -> None:
    """Every blueprint, the extensions and the error handlers; the order matters where it says so."""
    app.register_blueprint(auth.bp)  # first: the signed-in user is known before the CSRF check runs
    # Next: their upload limits apply before the CSRF check reads a form; the limiter sees the user.
    app.register_blueprint(licensure.public)  # /verify: anyone checks one credential
    app.register_blueprint(licensure.bp, url_prefix="/licensure")
    app.register_blueprint(verify_api.bp)  # JSON APIs (CSRF-exempt, rate-limited for anonymous clients)
    limiter.init_app(app)
    csrf.init_app(app)
    app.register_blueprint(public.bp)
    app.register_blueprint(catalog.bp)
    app.register_blueprint(admin.bp, url_prefix="/admin")
    app.register_blueprint(admin_credentials.bp, url_prefix="/admin/credentials")
    app.register_blueprint(assessor.bp, url_prefix="/review")
    app.register_blueprint(people.bp, url_prefix="/people")
    app.register_blueprint(teacher.bp, url_prefix="/my")
    app.register_blueprint(credentials.bp)
    app.register_blueprint(status.bp)
    app.register_blueprint(sharing.bp)
    app.register_blueprint(oid4vci.pages, url_prefix="/my")  # the teacher's wallet page
    app.register_blueprint(oid4vci.api)  # what wallets call (CSRF-exempt JSON)
    app.register_blueprint(dashboards.bp, url_prefix="/dashboards")
    app.register_blueprint(surveys.bp, url_prefix="/my/surveys")
    errors.register(app)
    headers.register(app)
