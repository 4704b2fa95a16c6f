"""The public web pages, through Flask's test client: home, the did:web document, health, errors."""

from __future__ import annotations

import pytest
from flask import Flask

from issuer.catalog.versions import get_record, set_status

DID_WEB = "did:web:badges.example.gov"


def test_home_lists_the_catalogue(app: Flask, client) -> None:
    """Counts per pathway and links into the catalogue, read from the database (not the files)."""
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    badges = app.extensions["microcred"].catalog.badge_classes.values()
    team = sum(b.pathway == "team" for b in badges)
    leader = sum(b.pathway == "teacher-leader" for b in badges)
    assert f'<a href="/achievements?pathway=team">Browse {team} TEAM-aligned micro-credentials</a>' in page
    assert (f'<a href="/achievements?pathway=teacher-leader">Browse {leader} Teacher-leader micro-credentials</a>'
            in page)
    for category in ("Questioning", "Thinking", "Problem Solving"):
        count = sum(b.category == category for b in badges)
        assert f'<a href="/achievements?category={category.replace(" ", "+")}">{category}</a>' in page
        assert f"({count} micro-credentials)" in page
    assert f"See all {team + leader} micro-credentials" in page

    with app.extensions["microcred"].database.transaction() as session:
        set_status(session, get_record(session, "questioning-higher-order"), "retired", actor="test")
    page = client.get("/").get_data(as_text=True)
    assert f"Browse {team - 1} TEAM-aligned micro-credentials" in page
    assert f"See all {team + leader - 1} micro-credentials" in page


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


def test_behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for(make_app) -> None:
    from sqlalchemy import select

    from issuer.models import LoginFailure

    app = make_app(proxy_count=1)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/login", data={"csrf_token": token, "email": "nobody@example.org", "password": "wrong"},
                           headers={"X-Forwarded-For": "127.0.113.7"})
    assert response.status_code == 401
    with app.extensions["microcred"].database.transaction() as session:
        keys = set(session.scalars(select(LoginFailure.key)))
    assert "address:127.0.113.7" in keys


def test_a_bad_proxy_count_is_a_clear_configuration_error(make_app) -> None:
    from issuer.errors import ConfigError

    with pytest.raises(ConfigError, match="MICROCRED_PROXY_COUNT"):
        make_app(proxy_count="two")


@pytest.mark.parametrize("setting, value, named", [
    ("pdp_thresholds", "professional=sixty", "MICROCRED_PDP_THRESHOLDS"),
    ("own_issuer_since", "July 2017", "MICROCRED_OWN_ISSUER_SINCE"),
])
def test_bad_licensure_settings_stop_start_up_not_a_request(make_app, setting: str, value: str, named: str) -> None:
    from issuer.errors import ConfigError

    with pytest.raises(ConfigError, match=named):
        make_app(**{setting: value})
