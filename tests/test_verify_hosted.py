"""An Open Badges 2.0 hosted assertion checked end to end by the running service: fetched over
HTTPS from the issuer's site (a local TLS server whose certificate authority the configuration
trusts, MICROCRED_FETCH_CA_FILE), checked against its badge class and issuer, and revoked by the
issuer's own copy."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from issuer.config import load_settings
from issuer.errors import ConfigError
from issuer.licensure.verification import fetch_policy
from verifier.fetch import Fetcher, FetchError

from app_support import clean_environment, initialised_app, module_config
from verifier_support import LocalSite

EMAIL = "beth@schools.example"
SALT = "pepper"


@pytest.fixture(scope="module")
def site() -> Iterator[LocalSite]:
    with LocalSite(hosts=("localhost",)) as running:
        yield running


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, site: LocalSite) -> Iterator[Flask]:
    ca = tmp_path_factory.mktemp("ca") / "agency-ca.pem"
    ca.write_text(site.ca_pem)
    with clean_environment():
        application = initialised_app(module_config(tmp_path_factory, "verify-hosted", fetch_allowed_hosts="localhost",
                                                    fetch_ca_file=str(ca)))
        yield application
        application.extensions["microcred"].database.dispose()


def _hosted(site: LocalSite, name: str, *, revoked: bool = False) -> str:
    """Publish an assertion with its badge class and issuer on the site; the assertion's URL."""
    base = f"https://localhost:{site.https_port}"
    issuer = {"@context": "https://w3id.org/openbadges/v2", "type": "Issuer", "id": f"{base}/issuer.json",
              "name": "Neighbouring State Department of Education", "url": base, "email": "badges@localhost"}
    badge = {"@context": "https://w3id.org/openbadges/v2", "type": "BadgeClass", "id": f"{base}/badges/{name}.json",
             "name": "Classroom Questioning (2019)", "description": "An older micro-credential.",
             "image": f"{base}/badges/{name}.png", "criteria": {"narrative": "Plan and use higher-order questions."},
             "issuer": issuer["id"]}
    assertion = {"@context": "https://w3id.org/openbadges/v2", "type": "Assertion",
                 "id": f"{base}/assertions/{name}.json", "badge": badge["id"], "issuedOn": "2019-05-01T12:00:00Z",
                 "recipient": {"type": "email", "hashed": True, "salt": SALT,
                               "identity": "sha256$" + hashlib.sha256((EMAIL + SALT).encode()).hexdigest()},
                 "verification": {"type": "hosted"}}
    if revoked:
        assertion["revoked"], assertion["revocationReason"] = True, "Issued in error."
    for document in (issuer, badge, assertion):
        site.routes[("localhost", document["id"].removeprefix(base))] = json.dumps(document).encode()
    return assertion["id"]


def _checks(report: dict) -> dict[str, str]:
    return {c["id"]: c["status"] for c in report["checks"]}


def test_a_hosted_ob2_assertion_is_fetched_checked_and_named(app: Flask, site: LocalSite) -> None:
    url = _hosted(site, "questioning")
    response = app.test_client().post("/api/v1/verify", json=url)
    report = response.get_json()
    assert response.status_code == 200 and report["verified"] is True, report
    assert report["version"] == "Open Badges 2.0 (hosted)"
    assert report["credential"]["achievement"]["name"] == "Classroom Questioning (2019)"
    assert report["credential"]["issuer"]["name"] == "Neighbouring State Department of Education"
    paths = {path for _, host, path in site.hits if host.startswith("localhost")}
    assert {"/assertions/questioning.json", "/badges/questioning.json", "/issuer.json"} <= paths
    theirs = app.test_client().post("/api/v1/verify?recipient=" + EMAIL, json=url).get_json()
    assert _checks(theirs)["recipient"] == "passed"  # the hashed identity is Beth's
    stranger = app.test_client().post("/api/v1/verify?recipient=pat@schools.example", json=url).get_json()
    assert _checks(stranger)["recipient"] == "failed" and stranger["verified"] is False


def test_the_issuers_copy_saying_revoked_wins(app: Flask, site: LocalSite) -> None:
    url = _hosted(site, "withdrawn", revoked=True)
    report = app.test_client().post("/api/v1/verify", json=url).get_json()
    assert report["verified"] is False and _checks(report)["status"] == "failed"
    assert "Issued in error" in next(c["message"] for c in report["checks"] if c["id"] == "status")


def test_the_agency_ca_is_what_makes_the_certificate_trusted(tmp_path: Path, site: LocalSite) -> None:
    """The same site, the app's fetch policy with and without the configured CA file (no database)."""
    url = _hosted(site, "untrusted")
    ca = tmp_path / "agency-ca.pem"
    ca.write_text(site.ca_pem)
    with_ca = load_settings({"instance": str(tmp_path), "fetch_allowed_hosts": "localhost", "fetch_ca_file": str(ca)})
    without = load_settings({"instance": str(tmp_path), "fetch_allowed_hosts": "localhost"})
    assert json.loads(Fetcher(fetch_policy(with_ca)).get(url))["type"] == "Assertion"
    with pytest.raises(FetchError) as refused:
        Fetcher(fetch_policy(without)).get(url)
    assert refused.value.code == "fetch_tls_failed"


def test_a_missing_ca_file_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="MICROCRED_FETCH_CA_FILE"):
        load_settings({"instance": str(tmp_path), "fetch_ca_file": str(tmp_path / "nowhere.pem")})
