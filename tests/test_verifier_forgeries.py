"""The forgery corpus (tests/forgeries.py) through verify_presented: never "verified", offline, with
the genuine issuers' documents reachable, and with the production issuer pinned; and the licensure
renewal report counts none of them. Genuine credentials of the same issuers verify in the same
settings, so a "not verified" here is the binding rule at work, not a broken setup."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from forgeries import ATTACKER_HOST, OB2_ISSUER, OB20, PRODUCTION_DID, PRODUCTION_HTTPS, Forgery, corpus, genuine_routes

from verifier.key_resolution import did_key_document
from verifier.presented import verify_presented
from verifier.renewal import Educator, RenewalPolicy, TrustedIssuer, renewal_report

from verifier_support import NOW, LocalSite, new_key, problem_codes, sign, statuses, unsigned_simple

PRODUCTION_KEY = new_key()
VICTIM = new_key()  # a did:key issuer (ours, in did:key mode)
CORPUS = corpus(victim_did_key=VICTIM.did)
OB3 = [f for f in CORPUS if not f.name.startswith("ob2")]
PINS = {PRODUCTION_DID: genuine_routes(PRODUCTION_KEY)[("badges.education.example.gov", "/.well-known/did.json")],
        PRODUCTION_HTTPS: genuine_routes(PRODUCTION_KEY)[("badges.education.example.gov", "/issuer")],
        VICTIM.did: did_key_document(VICTIM.did)}


def _site(forgery: Forgery | None = None) -> LocalSite:
    return LocalSite({**genuine_routes(PRODUCTION_KEY), **(forgery.routes if forgery else {})})


def test_the_corpus_has_every_kind_the_issue_names() -> None:
    names = {f.name for f in CORPUS}
    assert len(CORPUS) >= 10 and len(names) == len(CORPUS)
    assert {f.claims for f in CORPUS} >= {PRODUCTION_DID, PRODUCTION_HTTPS, VICTIM.did, OB2_ISSUER}
    assert any(n.startswith("vc-jwt-jwk-header") for n in names) and any(n.startswith("ob2-signed") for n in names)


@pytest.mark.parametrize("forgery", OB3, ids=lambda f: f.name)
def test_each_forgery_is_validly_signed_and_not_verified_offline(forgery: Forgery) -> None:
    report = verify_presented(forgery.presented, now=NOW)
    assert statuses(report)["proof"] == "passed", report.to_json()  # a real signature, by the wrong key
    assert statuses(report)["issuer"] == "failed" and not report.verified
    assert problem_codes(report) & {"issuer_not_confirmed", "issuer_key_mismatch"}


@pytest.mark.parametrize("forgery", CORPUS, ids=lambda f: f.name)
def test_each_forgery_is_not_verified_with_the_genuine_issuers_documents_reachable(forgery: Forgery) -> None:
    with _site(forgery) as site:
        report = verify_presented(forgery.presented, now=NOW, fetcher=site.fetcher())
        assert not report.verified, report.to_json()
        assert statuses(report)["issuer"] == "failed" or statuses(report)["proof"] == "failed"
        assert not any(host not in site.hosts for _scheme, host, _path in site.hits)


@pytest.mark.parametrize("forgery", OB3, ids=lambda f: f.name)
def test_each_forgery_naming_a_pinned_issuer_fails_against_its_pinned_keys(forgery: Forgery) -> None:
    with _site(forgery) as site:
        report = verify_presented(forgery.presented, now=NOW, fetcher=site.fetcher(), known_issuers=PINS)
        assert not report.verified
        if forgery.claims in PINS:
            # the key is not in the pinned document: either the proof names a method the document does not
            # list (key_not_in_document), or a key of someone else signed (issuer_key_mismatch)
            assert problem_codes(report) & {"issuer_key_mismatch", "key_not_in_document"}, report.to_json()
            assert "issuer_not_confirmed" not in problem_codes(report)
            assert not any(host == "badges.education.example.gov" for _s, host, _p in site.hits)


def _genuine(issuer: str, vm: str) -> dict[str, Any]:
    document = unsigned_simple(PRODUCTION_KEY)
    document["issuer"] = {"id": issuer, "type": ["Profile"], "name": "Department of Education"}
    return sign(document, PRODUCTION_KEY, verification_method=vm)


@pytest.mark.parametrize("issuer", [PRODUCTION_DID, PRODUCTION_HTTPS])
def test_the_genuine_issuers_credentials_verify_fetched_and_pinned(issuer: str) -> None:
    genuine = _genuine(issuer, f"{issuer}#key-1")
    with _site() as site:
        assert verify_presented(genuine, now=NOW, fetcher=site.fetcher()).verified
        site.hits.clear()
        pinned = verify_presented(genuine, now=NOW, fetcher=site.fetcher(), known_issuers=PINS)
        assert pinned.verified and site.hits == []
    offline = verify_presented(genuine, now=NOW)
    assert not offline.verified and "key_unresolved" in problem_codes(offline)


def test_the_genuine_ob2_badge_verifies_where_the_forgeries_do_not() -> None:
    with _site() as site:
        site.routes[("example.org", "/beths-robotics-badge.json")] = (OB20 / "basic-assertion.json").read_bytes()
        assert verify_presented((OB20 / "basic-assertion.json").read_bytes(), now=NOW, fetcher=site.fetcher()).verified


def test_the_ob2_hosted_forgery_is_judged_by_the_real_issuers_profile() -> None:
    hosted = next(f for f in CORPUS if f.name == "ob2-hosted-embedded-issuer")
    with _site(hosted) as site:
        report = verify_presented(hosted.presented, now=NOW, fetcher=site.fetcher())
        assert "hosted_origin_not_allowed" in problem_codes(report)
        assert ("https", "example.org", "/organization.json") in site.hits  # the profile came from its own id
        assert report.summary.issuer_name == "An Example Badge Issuer"
    elsewhere = next(f for f in CORPUS if f.name == "ob2-hosted-profile-elsewhere")
    with _site(elsewhere) as site:
        report = verify_presented(elsewhere.presented, now=NOW, fetcher=site.fetcher())
        assert "issuer_not_confirmed" in problem_codes(report) and ATTACKER_HOST in report.check("issuer").message


@pytest.mark.parametrize("name, code", [("ob2-signed-attacker-key", "issuer_key_mismatch"),
                                        ("ob2-signed-embedded-profile", "signature_mismatch")])
def test_the_ob2_signed_forgeries_take_the_key_from_the_issuers_own_profile(name: str, code: str) -> None:
    forgery = next(f for f in CORPUS if f.name == name)
    with _site(forgery) as site:
        report = verify_presented(forgery.presented, now=NOW, fetcher=site.fetcher())
        assert statuses(report)["proof"] == "failed" and code in problem_codes(report), report.to_json()


def test_the_renewal_report_counts_no_forgery() -> None:
    educator = Educator("Nobody", "nobody@example.org", "L-1", "professional", date(2010, 1, 1), date(2030, 1, 1))
    registry = [TrustedIssuer(OB2_ISSUER, "An Example Badge Issuer", date(2000, 1, 1)),
                TrustedIssuer(PRODUCTION_DID, "Department of Education", date(2000, 1, 1)),
                TrustedIssuer(PRODUCTION_HTTPS, "Department of Education", date(2000, 1, 1)),
                TrustedIssuer(VICTIM.did, "Department of Education", date(2000, 1, 1))]
    presented = []
    for forgery in CORPUS:
        with _site(forgery) as site:
            presented.append((forgery.name, verify_presented(forgery.presented, now=NOW, fetcher=site.fetcher(),
                                                             recipient="nobody@example.org")))
    with _site() as site:
        site.routes[("example.org", "/beths-robotics-badge.json")] = (OB20 / "basic-assertion.json").read_bytes()
        presented.append(("genuine", verify_presented((OB20 / "basic-assertion.json").read_bytes(), now=NOW,
                                                      fetcher=site.fetcher(), recipient="nobody@example.org")))
    report = renewal_report(educator, presented, registry=registry, policy=RenewalPolicy(pdp_value=lambda s: 6.0))
    verdicts = {e.source: (e.counted, e.reason) for e in report.entries}
    assert verdicts.pop("genuine") == (True, None)  # the control: the real badge counts
    assert set(verdicts.values()) == {(False, "not_verified")}
    assert report.total == 6.0
