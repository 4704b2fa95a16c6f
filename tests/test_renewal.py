"""The renewal report (verifier.renewal): every exclusion reason, duplicates, dated PDP rules, thresholds.

Real signatures (did:key), real signed status lists; the clock is pinned.
"""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest

from badge_classes import load_catalog
from issuer.licensure.verification import PdpRule
from verifier.presented import verify_presented
from verifier.renewal import EXCLUSIONS, Educator, RenewalPolicy, TrustedIssuer, renewal_report
from verifier.status import status_list_checker

from licensure_support import EDUCATOR_EMAIL, OTHER_BASE, credential, status_entry, status_list
from verifier_support import new_key

NOW = datetime(2025, 6, 1, tzinfo=UTC)
LIST_URL = "https://badges.other-state.example/status/1"
KEY = new_key()
STRANGER = new_key()
CATALOG = load_catalog()
EDUCATOR = Educator("Pat Educator", EDUCATOR_EMAIL, "TN-123456", "practitioner", date(2019, 8, 1), date(2025, 7, 31))
REGISTRY = (TrustedIssuer(KEY.did, "Other State Department of Education", date(2017, 7, 1)),)
POLICY = RenewalPolicy(pdp_value=PdpRule(CATALOG.policy, frozenset(), "https://ours.example/achievements/", {}))
LISTED = {LIST_URL: status_list(KEY, LIST_URL, revoked=(42,))}


def verify(document, *, recipient: str | None = EDUCATOR_EMAIL):
    checker = status_list_checker(lambda url: copy.deepcopy(LISTED.get(url)), documents=None, now=NOW)
    return verify_presented(document, now=NOW, recipient=recipient, status_checker=checker)


def report_of(*documents, educator: Educator = EDUCATOR, registry=REGISTRY, policy: RenewalPolicy = POLICY):
    presented = [(f"credential {i + 1}", verify(d, recipient=educator.email)) for i, d in enumerate(documents)]
    return renewal_report(educator, presented, registry=registry, policy=policy)


def test_a_good_credential_counts_the_pdps_of_the_rule_in_force_when_earned() -> None:
    report = report_of(credential(KEY, earned=datetime(2024, 3, 1, tzinfo=UTC)),
                       credential(KEY, slug="thinking-analytical", earned=datetime(2019, 3, 1, tzinfo=UTC),
                                  credits=5.0, email=EDUCATOR_EMAIL),
                       educator=Educator("Pat", EDUCATOR_EMAIL, "TN-1", "practitioner", date(2018, 1, 1),
                                         date(2025, 7, 31)))
    assert [(e.counted, e.pdps) for e in report.entries] == [(True, 6.0), (True, 5.0)]  # 6 from 2019-07-01, 5 before
    assert report.total == 11.0 and report.threshold == 30.0 and not report.met
    assert all(not e.notes for e in report.entries)


def test_stated_credits_that_differ_from_the_rule_are_noted_and_the_rule_counts() -> None:
    (entry,) = report_of(credential(KEY, credits=10.0)).entries
    assert entry.counted and entry.pdps == 6.0
    assert "states 10 credits" in entry.notes[0]


def _reason(document, **kwargs) -> tuple[str | None, str]:
    (entry,) = report_of(document, **kwargs).entries
    assert not entry.counted and entry.pdps == 0
    return entry.reason, entry.message


def test_not_verified_when_the_signature_fails() -> None:
    tampered = credential(KEY)
    tampered["name"] = "Something else"
    assert _reason(tampered)[0] == "not_verified"


def test_not_verified_when_the_input_is_garbage() -> None:
    assert _reason(b"\x89PNG\r\n\x1a\n truncated")[0] == "not_verified"


def test_status_unknown_when_revocation_cannot_be_ruled_out() -> None:
    unknown = credential(KEY, status=status_entry("https://badges.other-state.example/status/missing", 3))
    reason, message = _reason(unknown)
    assert reason == "status_unknown" and "Status unknown" in message


def test_revoked() -> None:
    reason, message = _reason(credential(KEY, status=status_entry(LIST_URL, 42)))
    assert (reason, message) == ("revoked", "Revoked by the issuer.")
    assert report_of(credential(KEY, status=status_entry(LIST_URL, 43))).entries[0].counted  # its neighbour is fine


def test_expired() -> None:
    reason, _ = _reason(credential(KEY, valid_until=datetime(2025, 1, 1, tzinfo=UTC)))
    assert reason == "expired"


def test_issuer_not_recognised() -> None:
    reason, message = _reason(credential(STRANGER))
    assert reason == "issuer_not_recognised" and "registry" in message


def test_issuer_not_recognised_when_earned_outside_its_registry_dates() -> None:
    registry = (TrustedIssuer(KEY.did, "Other State", date(2024, 6, 1), date(2030, 1, 1)),)
    reason, message = _reason(credential(KEY, earned=datetime(2024, 3, 1, tzinfo=UTC)), registry=registry)
    assert reason == "issuer_not_recognised" and "2024-03-01" in message
    ended = (TrustedIssuer(KEY.did, "Other State", date(2017, 1, 1), date(2023, 12, 31)),)
    assert _reason(credential(KEY), registry=ended)[0] == "issuer_not_recognised"


def test_outside_the_license_period() -> None:
    reason, message = _reason(credential(KEY, earned=datetime(2019, 7, 31, tzinfo=UTC)))
    assert reason == "outside_license_period" and "2019-08-01 to 2025-07-31" in message


def test_not_this_educator() -> None:
    reason, message = _reason(credential(KEY, email="someone.else@schools.example"))
    assert reason == "not_this_educator" and EDUCATOR_EMAIL in message


def test_not_this_educator_is_judged_even_when_verified_without_a_recipient() -> None:
    other = verify(credential(KEY, email="someone.else@schools.example"), recipient=None)
    assert other.verified
    (entry,) = renewal_report(EDUCATOR, [("x", other)], registry=REGISTRY, policy=POLICY).entries
    assert entry.reason == "not_this_educator"


def test_the_same_credential_presented_twice_counts_once() -> None:
    document = credential(KEY)
    report = report_of(document, document)
    assert [(e.counted, e.reason) for e in report.entries] == [(True, None), (False, "duplicate")]
    assert "presented twice" in report.entries[1].message and report.total == 6.0


def test_the_same_micro_credential_earned_again_under_another_version_counts_once() -> None:
    first = credential(KEY, version=1, earned=datetime(2022, 1, 10, tzinfo=UTC))
    again = credential(KEY, version=2, earned=datetime(2024, 1, 10, tzinfo=UTC))
    other_class = credential(KEY, slug="thinking-creative", earned=datetime(2024, 2, 1, tzinfo=UTC))
    report = report_of(again, first, other_class)
    assert [(e.counted, e.reason) for e in report.entries] == [(False, "duplicate"), (True, None), (True, None)]
    assert report.total == 12.0


def test_a_reissue_counts_once_and_the_reissue_is_the_one_counted() -> None:
    original = credential(KEY, earned=datetime(2023, 5, 1, tzinfo=UTC))
    reissue = credential(KEY, version=3, earned=datetime(2023, 5, 1, tzinfo=UTC), replaces=original["id"])
    report = report_of(original, reissue)
    assert [(e.counted, e.reason) for e in report.entries] == [(False, "duplicate"), (True, None)]
    assert "re-issue" in report.entries[0].message


def test_the_valid_one_counts_when_the_original_was_revoked() -> None:
    original = credential(KEY, status=status_entry(LIST_URL, 42))
    reissue = credential(KEY, replaces=original["id"])
    report = report_of(reissue, original)
    assert [(e.counted, e.reason) for e in report.entries] == [(True, None), (False, "revoked")]


def test_the_same_class_from_two_issuers_is_two_micro_credentials() -> None:
    registry = REGISTRY + (TrustedIssuer(STRANGER.did, "Third", date(2017, 1, 1)),)
    report = report_of(credential(KEY), credential(STRANGER), registry=registry)
    assert [e.counted for e in report.entries] == [True, True]


def test_every_reason_is_in_the_stable_list_and_reported_in_that_order() -> None:
    assert list(EXCLUSIONS) == ["not_verified", "status_unknown", "revoked", "expired", "issuer_not_recognised",
                                "outside_license_period", "not_this_educator", "duplicate"]
    # Revoked, expired, from a stranger, outside the period and someone else's: the first reason wins.
    everything = credential(STRANGER, status=status_entry(LIST_URL, 42), email="x@y.example",
                            earned=datetime(2018, 1, 1, tzinfo=UTC),
                            valid_until=datetime(2024, 1, 1, tzinfo=UTC))
    assert _reason(everything)[0] == "status_unknown"  # the stranger cannot vouch for KEY's list
    revoked_and_expired = credential(KEY, status=status_entry(LIST_URL, 42),
                                     valid_until=datetime(2024, 1, 1, tzinfo=UTC))
    assert _reason(revoked_and_expired)[0] == "revoked"


@pytest.mark.parametrize("kind, threshold", [("professional", 60.0), ("practitioner", 30.0), ("advancement", 30.0)])
def test_thresholds_per_license_type(kind: str, threshold: float) -> None:
    educator = Educator("Pat", EDUCATOR_EMAIL, "TN-1", kind, date(2019, 1, 1), date(2025, 12, 31))
    slugs = sorted(CATALOG.badge_classes)[:10]
    documents = [credential(KEY, slug=s) for s in slugs]
    report = report_of(*documents, educator=educator)
    assert report.total == 60.0 and report.threshold == threshold and report.met


def test_thresholds_are_configurable_and_an_unknown_license_type_is_refused() -> None:
    policy = RenewalPolicy(pdp_value=POLICY.pdp_value, thresholds={"professional": 6.0})
    educator = Educator("Pat", EDUCATOR_EMAIL, "TN-1", "professional", date(2019, 1, 1), date(2025, 12, 31))
    assert report_of(credential(KEY), educator=educator, policy=policy).met
    with pytest.raises(ValueError, match="Unknown license type 'practitioner'"):
        report_of(credential(KEY), policy=policy)


def test_our_own_classes_use_their_own_dated_rule() -> None:
    from badge_classes.pdp import PdpPolicy
    from badge_classes.pdp import PdpRule as Rule

    special = PdpPolicy("PDPs", CATALOG.policy.rules + (Rule(date(2020, 1, 1), 9.0, badge_class="questioning-higher-order"),))
    ours = PdpRule(special, frozenset({KEY.did}), OTHER_BASE + "/achievements/",
                   {s: b.pathway for s, b in CATALOG.badge_classes.items()})
    policy = RenewalPolicy(pdp_value=ours)
    report = report_of(credential(KEY), credential(KEY, slug="thinking-creative"), policy=policy)
    assert [e.pdps for e in report.entries] == [9.0, 6.0]
    foreign = PdpRule(special, frozenset(), OTHER_BASE + "/achievements/", {})  # not ours: the generic rule
    assert report_of(credential(KEY), policy=RenewalPolicy(pdp_value=foreign)).entries[0].pdps == 6.0
