"""Default security headers on every response (issuer/views/headers.py): a Content-Security-Policy
without 'unsafe-inline' on pages, nosniff, a referrer policy and frame protection; a view's own
choice (no-referrer on token links, sandbox on uploads) wins."""

from __future__ import annotations

from flask import Flask


def _policy(header: str) -> dict[str, str]:
    return {d.split()[0]: d.partition(" ")[2] for d in (part.strip() for part in header.split(";")) if d}


def test_pages_get_a_policy_without_unsafe_inline(client) -> None:
    for path in ("/", "/achievements", "/login", "/verify", "/no-such-page"):
        response = client.get(path)
        policy = _policy(response.headers["Content-Security-Policy"])
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"], path
        assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'", path
        assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'", path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer"), path


def test_json_and_files_get_the_other_headers_and_keep_their_own(app: Flask, client) -> None:
    api = client.post("/api/v1/verify", data="{}", content_type="application/json")
    assert api.headers["X-Content-Type-Options"] == "nosniff" and api.headers["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" not in api.headers  # not a document
    svg = client.get("/achievements/questioning-higher-order/image.svg")
    assert svg.status_code == 200 and "default-src 'none'" in svg.headers["Content-Security-Policy"]
    sign_in = client.get("/reset")
    assert sign_in.headers["Referrer-Policy"] == "no-referrer"  # the auth pages' own, stricter choice
