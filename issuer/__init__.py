"""microcred's web service: the Flask app factory. Blueprints, one per audience, live in views/."""

from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask
from flask_wtf.csrf import CSRFProtect
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from werkzeug.middleware.proxy_fix import ProxyFix

from badge_classes import load_catalog

from .config import load_settings, secret_key
from .db import Database
from .runtime import Runtime

csrf = CSRFProtect()
# Per-client limits of the anonymous verification API (storage: MICROCRED_RATELIMIT_STORAGE).
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app. `config` overrides MICROCRED_* settings (keys like 'instance', 'database_url')."""
    settings = load_settings(config)
    app = Flask(__name__, instance_path=str(settings.instance_dir), instance_relative_config=False)
    app.config.update(
        SECRET_KEY=secret_key(settings, create=False),
        SESSION_COOKIE_SECURE=(settings.base_url or "").startswith("https://"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=8 * 3600,
        MAX_CONTENT_LENGTH=(settings.max_upload_mb + 1) * 1024 * 1024,  # one evidence file per request
        JSON_SORT_KEYS=False,
    )
    app.config.update(RATELIMIT_STORAGE_URI=settings.ratelimit_storage, RATELIMIT_HEADERS_ENABLED=True)
    if config:
        app.config.update({k: v for k, v in config.items() if k.isupper()})
    if not app.logger.level:
        # INFO lines of issuer.* (such as "mail to ...: ..." with the demo's links) reach Flask's
        # stderr handler, unless the deployment configures logging itself.
        app.logger.setLevel(logging.INFO)
    runtime = Runtime(settings=settings, database=Database(settings.database_url), catalog=load_catalog(settings.catalog_dir))
    app.extensions["microcred"] = runtime
    if settings.proxy_count:
        # Behind N trusted proxies, the client address (login rate limits) and scheme come from them.
        n = settings.proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]

    from . import cli
    from .views import (admin, admin_credentials, assessor, auth, catalog, credentials, errors, people, public, sharing,
                        status, teacher)

    app.register_blueprint(auth.bp)  # first: the signed-in user is known before the CSRF check runs
    from .views import licensure, verify_api
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
    from .views import oid4vci
    app.register_blueprint(oid4vci.pages, url_prefix="/my")  # the teacher's wallet page
    app.register_blueprint(oid4vci.api)  # what wallets call (CSRF-exempt JSON)
    from .views import dashboards, surveys
    app.register_blueprint(dashboards.bp, url_prefix="/dashboards")
    app.register_blueprint(surveys.bp, url_prefix="/my/surveys")
    errors.register(app)
    cli.register(app)
    return app
