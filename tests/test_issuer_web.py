"""The public web pages, through Flask's test client: home, the did:web document, health, errors."""

from __future__ import annotations

import html

import pytest

from flask import Flask

DID_WEB = "did:web:badges.example.gov"


def test_home_lists_the_catalogue(app: Flask, client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for badge in app.extensions["microcred"].catalog.badge_classes.values():
        assert html.escape(badge.title) in page
    assert "Questioning: Higher-Order Questions" in page


def test_did_document_of_a_did_web_issuer(did_web_app: Flask, did_web_client) -> None:
    response = did_web_client.get("/.well-known/did.json")
    assert response.status_code == 200
    assert response.mimetype == "application/did+json"
    document = response.get_json(force=True)
    assert document["id"] == DID_WEB
    assert "https://www.w3.org/ns/did/v1" in document["@context"]

    active = did_web_app.extensions["microcred"].identity().store.active()
    methods = document["verificationMethod"]
    assert [m["id"] for m in methods] == [f"{DID_WEB}#{active.key_id}"]
    for method in methods:
        assert method["type"] == "Multikey"
        assert method["controller"] == DID_WEB
        assert method["publicKeyMultibase"].startswith("z6Mk")
        assert method["publicKeyMultibase"] == active.public_key_multibase
        assert set(method) == {"id", "type", "controller", "publicKeyMultibase"}  # public data only
    assert document["assertionMethod"] == [m["id"] for m in methods]


def test_did_document_without_base_url_is_a_clear_404(client) -> None:
    response = client.get("/.well-known/did.json")
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"]["code"] == "did_web_not_configured"
    assert "MICROCRED_BASE_URL" in body["error"]["message"]


def test_healthz(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_healthz_of_an_uninitialised_instance_is_503_not_500(uninitialised_app: Flask) -> None:
    response = uninitialised_app.test_client().get("/healthz", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert "microcred init" in response.get_json()["error"]["message"]


def test_unknown_url_is_404_not_500(client) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Traceback" not in response.get_data(as_text=True)

    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_unknown_well_known_path_is_a_json_404(client) -> None:
    response = client.get("/.well-known/nothing-here")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_did_document_with_an_invalid_base_url_is_not_a_500(make_app) -> None:
    make_app()  # initialised with a valid configuration
    misconfigured = make_app(initialise=False, base_url="badges.example.gov")  # no scheme
    response = misconfigured.test_client().get("/.well-known/did.json")
    assert 400 <= response.status_code < 500 or response.status_code == 503
    assert "MICROCRED_BASE_URL" in response.get_json()["error"]["message"]
