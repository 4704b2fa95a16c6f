"""microcred's web service: the Flask app factory. Blueprints, one per audience, live in views/."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from badge_classes import load_catalog

from . import cli, views
from .config import load_settings, secret_key
from .db import Database
from .runtime import Runtime


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

    views.register(app)
    cli.register(app)
    return app
