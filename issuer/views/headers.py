"""The security headers every response gets unless its view chose its own (set once, for the whole app).

HTML pages get a Content-Security-Policy without 'unsafe-inline': scripts and styles come only from
/static (tests/test_templates.py keeps the templates free of inline script, style and event
handlers). Other responses keep the policy their view set, or none: a PDF shown in the browser's
viewer must not get one (see views/teacher.py).
"""

from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
DEFAULT_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # pages whose address is a secret say no-referrer themselves
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
}


def secure_headers(response: Response) -> Response:
    """Add the defaults a view did not set."""
    for name, value in DEFAULT_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


def register(app: Flask) -> None:
    app.after_request(secure_headers)
