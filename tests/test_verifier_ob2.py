"""Open Badges 2.0: the 1EdTech validator's hosted and signed assertions, served by a local site
standing in for example.org (the vectors' issuer), mapped onto the OB 3.0 check ids."""

from __future__ import annotations

import json

import pytest
from verifier_support import NOW, OB30, LocalSite, problem_codes, statuses

from verifier.ob2 import recipient_matches
from verifier.presented import verify_presented

OB20 = OB30.parent / "ob20"
EMAIL = "nobody@example.org"  # sha256 + salt "deadsea" gives the vectors' recipient identity
ASSERTION_PATH = "/beths-robotics-badge.json"


def _site(assertion: str = "basic-assertion.json") -> LocalSite:
    routes: dict[tuple[str, str], object] = {}
    for path in (OB20 / "assets").glob("*.json"):
        body = path.read_bytes()
        routes[("example.org", "/" + path.name)] = body
        routes[("example.org", "/" + path.stem)] = body
    routes[("example.org", ASSERTION_PATH)] = (OB20 / assertion).read_bytes()
    return LocalSite(routes)


def _read(name: str) -> bytes:
    return (OB20 / name).read_bytes()


def test_a_hosted_assertion_is_verified_against_the_issuers_copy() -> None:
    with _site() as site:
        report = verify_presented(_read("basic-assertion.json"), now=NOW, fetcher=site.fetcher(), recipient=EMAIL)
        assert report.verified, report.to_json()
        assert report.version == "Open Badges 2.0 (hosted)"
        assert set(statuses(report).values()) == {"passed"}
        summary = report.summary
        assert (summary.spec, summary.achievement_name, summary.issuer_name) == (
            "ob2", "Awesome Robotics Badge", "An Example Badge Issuer")
        assert summary.earned.isoformat() == "2016-12-31T23:59:59+00:00" and summary.replaces == ()
        assert ("https", "example.org", ASSERTION_PATH) in site.hits


def test_a_hosted_assertion_by_its_url() -> None:
    with _site() as site:
        report = verify_presented("https://example.org" + ASSERTION_PATH, now=NOW, fetcher=site.fetcher())
        assert report.verified and report.version == "Open Badges 2.0 (hosted)", report.to_json()


def test_offline_a_hosted_assertion_is_not_verified_and_says_why() -> None:
    report = verify_presented(_read("basic-assertion.json"), now=NOW)
    assert not report.verified and report.version == "Open Badges 2.0 (hosted)"
    assert statuses(report)["proof"] == "failed" and "offline" in report.check("proof").message
    assert statuses(report)["issuer"] == "warning"


def test_someone_elses_badge_does_not_match_the_recipient() -> None:
    with _site() as site:
        report = verify_presented(_read("basic-assertion.json"), now=NOW, fetcher=site.fetcher(),
                                  recipient="other@example.org")
        assert statuses(report)["recipient"] == "failed" and "recipient_mismatch" in problem_codes(report)


@pytest.mark.parametrize("name, check, code", [
    ("basic-assertion-expired.json", "validity", "expired"),
    ("basic-assertion-in-future.json", "validity", "not_yet_valid"),
    ("basic-assertion-expired-before-issued.json", "validity", "date_invalid"),
    ("basic-assertion-invalid-context.json", "context", "context_invalid"),
    ("basic-assertion-with-allowed-origins-invalid-starts-with.json", "issuer", "hosted_origin_not_allowed"),
    ("basic-assertion-with-allowed-origins-invalid-multiple-starts-with.json", "issuer", "hosted_origin_not_allowed"),
])
def test_the_validators_negative_hosted_vectors_fail_where_expected(name: str, check: str, code: str) -> None:
    with _site(name) as site:
        report = verify_presented(_read(name), now=NOW, fetcher=site.fetcher())
        assert statuses(report)[check] == "failed", report.to_json()
        assert code in problem_codes(report)


@pytest.mark.parametrize("name", [
    "basic-assertion-with-allowed-origins.json",
    "basic-assertion-with-allowed-origins-valid-starts-with.json",
    "basic-assertion-with-allowed-origins-valid-multiple-starts-with.json",
])
def test_the_validators_allowed_origin_vectors_pass(name: str) -> None:
    with _site(name) as site:
        report = verify_presented(_read(name), now=NOW, fetcher=site.fetcher())
        assert report.verified, report.to_json()


def test_the_hosted_copy_is_the_authority_revoked_there_means_revoked() -> None:
    hosted = json.loads(_read("basic-assertion.json"))
    hosted.update(revoked=True, revocationReason="Issued in error")
    with _site() as site:
        site.routes[("example.org", ASSERTION_PATH)] = hosted
        report = verify_presented(_read("basic-assertion.json"), now=NOW, fetcher=site.fetcher())
        assert statuses(report)["status"] == "failed" and "Issued in error" in report.check("status").message


def test_a_signed_assertion_is_verified_with_the_issuers_key() -> None:
    with _site() as site:
        report = verify_presented(_read("simple.jwt"), now=NOW, fetcher=site.fetcher(), recipient=EMAIL)
        assert report.verified, report.to_json()
        assert report.version == "Open Badges 2.0 (signed)"
        assert ("http", "example.org", "/key1.json") in site.hits


def test_the_issuers_revocation_list_is_honoured() -> None:
    with _site() as site:
        revoked = verify_presented(_read("simple-revoked.jwt"), now=NOW, fetcher=site.fetcher())
        assert statuses(revoked)["proof"] == "passed" and statuses(revoked)["status"] == "failed"
        assert "A good reason, for sure" in revoked.check("status").message
        kept = verify_presented(_read("simple-not-revoked.jwt"), now=NOW, fetcher=site.fetcher())
        assert kept.verified, kept.to_json()


def test_a_tampered_signed_assertion_fails() -> None:
    head, _payload, signature = _read("simple.jwt").decode().strip().split(".")
    _other_head, other_payload, _ = _read("simple-revoked.jwt").decode().strip().split(".")
    with _site() as site:
        report = verify_presented(f"{head}.{other_payload}.{signature}", now=NOW, fetcher=site.fetcher())
        assert statuses(report)["proof"] == "failed" and "signature_mismatch" in problem_codes(report)


def test_a_key_of_someone_else_is_refused() -> None:
    # simple.jwt is signed with key1 (owner: organization.json); make the badge name another issuer.
    with _site() as site:
        site.routes[("example.org", "/robotics-badge.json")] = _read("assets/badge-from-organization-with-revocation-list.json")
        report = verify_presented(_read("simple.jwt"), now=NOW, fetcher=site.fetcher())
        assert "issuer_key_mismatch" in problem_codes(report)


def test_offline_a_signed_assertion_says_it_could_not_be_checked() -> None:
    report = verify_presented(_read("simple.jwt"), now=NOW)
    assert not report.verified and "offline" in problem_codes(report)


def test_the_baked_ob2_image_is_read() -> None:
    image = (OB20 / "simple-badge.png").read_bytes()
    report = verify_presented(image, now=NOW)
    assert report.version and report.version.startswith("Open Badges 2.0"), report.to_json()


@pytest.mark.parametrize("identity, recipient, expected", [
    ({"type": "email", "hashed": True, "salt": "deadsea",
      "identity": "sha256$ecf5409f3f4b91ab60cc5ef4c02aef7032354375e70cf4d8e43f6a1d29891942"}, " Nobody@Example.org ", True),
    ({"type": "email", "hashed": False, "identity": "Nobody@example.org"}, "nobody@example.org", True),
    ({"type": "url", "hashed": False, "identity": "https://example.org/me"}, "https://example.org/you", False),
    ({"type": "email", "hashed": True, "identity": "sha1$abc"}, "nobody@example.org", False),
    ("not an object", "nobody@example.org", False),
])
def test_recipient_identities(identity, recipient, expected) -> None:
    assert recipient_matches(identity, recipient) is expected

