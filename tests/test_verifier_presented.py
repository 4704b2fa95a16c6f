"""verify_presented: every form an educator may bring, recognised, verified, summarised; bad input
becomes a report (never an exception); with no fetcher nothing leaves the machine."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from verifier_support import NOW, OB30, LocalSite, new_key, problem_codes, sign, statuses, unsigned_simple

from verifier.presented import verify_presented
from verifier.summary import CredentialSummary


def _ours() -> dict:
    key = new_key()
    document = unsigned_simple(key)
    document["awardedDate"] = "2024-05-01T00:00:00Z"
    document["relatedResource"] = [{"id": "urn:uuid:4f0f8bb1-2d6b-4f6e-9a57-2cdf8a2b9c6e",
                                    "digestSRI": "sha384-abc"}]
    return sign(document, key)


def test_ob3_json_as_dict_text_bytes_and_wrapped_gives_one_verdict() -> None:
    signed = _ours()
    text = json.dumps(signed)
    for source in (signed, text, text.encode(), {"verifiableCredential": signed}, {"verifiableCredential": [signed]}):
        report = verify_presented(source, now=NOW)
        assert report.verified, report.to_json()
        assert report.version == "Open Badges 3.0 (VC 2.0, Data Integrity)"


def test_the_summary_says_who_what_and_when() -> None:
    signed = _ours()
    report = verify_presented(signed, now=NOW, recipient="teacher@example.org")
    summary = report.summary
    assert isinstance(summary, CredentialSummary)
    achievement = signed["credentialSubject"]["achievement"]
    assert summary.spec == "ob3" and summary.credential_id == signed["id"]
    assert summary.issuer_id == signed["issuer"]["id"] and summary.achievement_id == achievement["id"]
    assert summary.achievement_name == achievement["name"]
    assert summary.earned == datetime(2024, 5, 1, tzinfo=UTC)
    assert summary.credits_earned == 3.0
    assert summary.replaces == ("urn:uuid:4f0f8bb1-2d6b-4f6e-9a57-2cdf8a2b9c6e",)
    data = report.to_json()["credential"]
    assert data["id"] == signed["id"] and data["earned"] == "2024-05-01T00:00:00Z"
    assert statuses(report)["recipient"] == "passed"
    assert statuses(verify_presented(signed, now=NOW, recipient="other@example.org"))["recipient"] == "failed"


@pytest.mark.parametrize("source, code", [
    (b"\x00\x01garbage", "not_json"),
    (b"", "not_json"),
    ("not json at all", "not_json"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_baked"),
    ((OB30 / "simple-json.png").read_bytes()[:300], "not_baked"),
    (b"eyJhbGciOiJIUzI1NiJ9.e30", "jws_malformed"),
    ({"verifiableCredential": [{}, {}]}, "several_credentials"),
    ([1, 2, 3], "not_an_object"),
])
def test_unreadable_input_is_a_failed_parse_check(source, code) -> None:
    report = verify_presented(source, now=NOW)
    assert not report.verified and statuses(report) == {"parse": "failed"}
    assert code in problem_codes(report), report.to_json()
    assert report.summary is None


def test_a_url_without_a_fetcher_is_not_fetched() -> None:
    with LocalSite({("example.org", "/c.json"): _ours()}) as site:
        report = verify_presented("https://example.org/c.json", now=NOW)
        assert "offline" in problem_codes(report) and "offline" in report.checks[0].message
        assert site.hits == []


def test_a_hosted_credential_is_fetched_under_the_policy() -> None:
    signed = _ours()
    with LocalSite({("example.org", "/c.json"): signed}) as site:
        report = verify_presented("https://example.org/c.json", now=NOW, fetcher=site.fetcher())
        assert report.verified, report.to_json()
        assert report.summary.credential_id == signed["id"]
        refused = verify_presented("https://example.org/c.json", now=NOW, fetcher=site.fetcher(allowed=False))
        assert "fetch_forbidden_address" in problem_codes(refused)
        assert len(site.hits) == 1
