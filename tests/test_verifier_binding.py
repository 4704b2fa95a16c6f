"""verifier/issuer_binding.py for Data Integrity credentials: whose key is the issuer's.

Proof sets and chains (VC Data Integrity §2.1.1, §2.1.2, §4.5): the issuer's own proof makes the
credential the issuer's; valid proofs by others are reported; an invalid one still fails. did:web
and https issuers: a key the issuer's own document lists under assertionMethod, by value or by
reference. Pinned documents answer for their issuers alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from verifier import cryptosuite, verify_credential
from verifier.data_integrity import _with_previous_proofs
from verifier.fetch import FetchError
from verifier.key_resolution import did_key_document, pinned_documents
from verifier.timeutil import format_datetime

from verifier_support import (
    NOW,
    SIGNED_AT,
    Ed25519Key,
    controller_document,
    failed_checks,
    new_key,
    problem_codes,
    sign,
    statuses,
    unsigned_simple,
)

DID_WEB = "did:web:issuer.example"


def _options(key: Ed25519Key, **extra: Any) -> dict[str, Any]:
    return {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": format_datetime(SIGNED_AT),
            "verificationMethod": key.verification_method, "proofPurpose": "assertionMethod", **extra}


def _issued_by(issuer_id: str, issuer_key: Ed25519Key) -> dict[str, Any]:
    document = unsigned_simple(issuer_key)
    document["issuer"]["id"] = issuer_id
    return document


def _proof_set(unsigned: dict[str, Any], *keys: Ed25519Key) -> dict[str, Any]:
    return {**unsigned, "proof": [cryptosuite.create_proof(unsigned, _options(k, id=f"urn:proof:{i}"), k.sign)
                                  for i, k in enumerate(keys)]}


def _chain(unsigned: dict[str, Any], first: Ed25519Key, second: Ed25519Key) -> dict[str, Any]:
    proof1 = cryptosuite.create_proof(unsigned, _options(first, id="urn:proof:1"), first.sign)
    options = _options(second, id="urn:proof:2", previousProof="urn:proof:1")
    proof2 = cryptosuite.create_proof(_with_previous_proofs(unsigned, options, [proof1]), options, second.sign)
    return {**unsigned, "proof": [proof1, proof2]}


@pytest.fixture()
def keys() -> tuple[Ed25519Key, Ed25519Key]:
    return new_key(), new_key()


def test_an_endorsers_extra_proof_in_a_set_is_reported_not_a_failure(keys) -> None:
    issuer, endorser = keys
    report = verify_credential(_proof_set(_issued_by(issuer.did, issuer), issuer, endorser), now=NOW)
    assert report.verified, report.to_json()
    message = report.check("issuer").message
    assert message.startswith(f"Signed by the issuer, {issuer.did}.") and endorser.verification_method in message


@pytest.mark.parametrize("order", ["issuer first", "endorser first"])
def test_a_two_key_proof_chain_is_the_issuers(keys, order: str) -> None:
    """Issue 13: a two-key chain failed with issuer_key_mismatch (the W3C suite's one such failure)."""
    issuer, endorser = keys
    first, second = (issuer, endorser) if order == "issuer first" else (endorser, issuer)
    report = verify_credential(_chain(_issued_by(issuer.did, issuer), first, second), now=NOW)
    assert report.verified, report.to_json()
    assert statuses(report)["proof"] == statuses(report)["issuer"] == "passed"


def test_proofs_by_others_only_are_not_the_issuers(keys) -> None:
    issuer, endorser = keys
    notary = new_key()
    report = verify_credential(_proof_set(_issued_by(issuer.did, issuer), endorser, notary), now=NOW)
    assert statuses(report)["proof"] == "passed" and not report.verified
    assert "issuer_key_mismatch" in problem_codes(report)


def test_an_invalid_extra_proof_still_fails(keys) -> None:
    issuer, endorser = keys
    document = _proof_set(_issued_by(issuer.did, issuer), issuer, endorser)
    document["proof"][1]["proofValue"] = document["proof"][0]["proofValue"]  # the endorser's proof, broken
    report = verify_credential(document, now=NOW)
    assert not report.verified and "proof" in failed_checks(report) and "signature_mismatch" in problem_codes(report)


def test_a_did_web_issuer_may_list_a_did_key_by_reference(keys) -> None:
    issuer_key, stranger = keys
    document = sign(_issued_by(DID_WEB, issuer_key), issuer_key)
    listing = {"id": DID_WEB, "assertionMethod": [issuer_key.verification_method]}
    assert verify_credential(document, now=NOW, documents={DID_WEB: listing}.get).verified
    other = {"id": DID_WEB, "assertionMethod": [stranger.verification_method]}
    report = verify_credential(document, now=NOW, documents={DID_WEB: other}.get)
    assert "issuer_key_mismatch" in problem_codes(report) and not report.verified


def test_an_issuer_document_that_cannot_be_fetched_leaves_the_issuer_unconfirmed(keys) -> None:
    issuer_key, _ = keys
    document = sign(_issued_by(DID_WEB, issuer_key), issuer_key)

    def unreachable(controller: str) -> dict[str, Any] | None:
        if controller == DID_WEB:
            raise FetchError("issuer.example did not answer within 5 seconds.", code="fetch_timeout")
        return None

    report = verify_credential(document, now=NOW, documents=unreachable)
    assert not report.verified and problem_codes(report) == {"issuer_not_confirmed"}
    assert "did not answer within 5 seconds" in report.check("issuer").message


def test_a_document_given_for_the_issuer_must_be_the_issuers_own(keys) -> None:
    issuer_key, _ = keys
    document = sign(_issued_by(DID_WEB, issuer_key), issuer_key)
    impostor = {"id": "did:web:elsewhere.example", "assertionMethod": [issuer_key.verification_method]}
    report = verify_credential(document, now=NOW, documents={DID_WEB: impostor}.get)
    assert "issuer_not_confirmed" in problem_codes(report) and "not that issuer's own" in report.check("issuer").message


def test_an_https_fragment_key_is_confirmed_only_by_the_issuers_document(keys) -> None:
    issuer_key, _ = keys
    issuer = "https://issuer.example/profile"
    vm = f"{issuer}#{issuer_key.multibase}"
    document = sign(_issued_by(issuer, issuer_key), issuer_key, verification_method=vm)
    offline = verify_credential(document, now=NOW)
    assert statuses(offline)["proof"] == "passed" and problem_codes(offline) == {"issuer_not_confirmed"}
    listed = controller_document(issuer, (vm, issuer_key.multibase))
    assert verify_credential(document, now=NOW, documents={issuer: listed}.get).verified


def test_a_did_jwk_issuer_signs_data_integrity_with_its_own_key(keys) -> None:
    import base64
    import json

    own, stranger = keys
    x = base64.urlsafe_b64encode(own.public_bytes).rstrip(b"=").decode()
    did = "did:jwk:" + base64.urlsafe_b64encode(json.dumps({"kty": "OKP", "crv": "Ed25519", "x": x}).encode()
                                                ).rstrip(b"=").decode()
    assert verify_credential(sign(_issued_by(did, own), own, verification_method=did + "#0"), now=NOW).verified
    forged = verify_credential(sign(_issued_by(did, own), stranger), now=NOW)
    assert "issuer_key_mismatch" in problem_codes(forged) and not forged.verified


def test_pinned_documents_answer_alone_for_their_issuers(keys) -> None:
    ours, attacker = keys
    asked: list[str] = []

    def network(controller: str) -> dict[str, Any] | None:
        asked.append(controller)
        if controller != DID_WEB:
            return None
        return {"id": DID_WEB, "assertionMethod": [attacker.verification_method]}  # what an attacker would serve

    pins = {DID_WEB: {"id": DID_WEB, "assertionMethod": [ours.verification_method]}}
    forged = sign(_issued_by(DID_WEB, attacker), attacker)
    report = verify_credential(forged, now=NOW, documents=network, known_issuers=pins)
    assert "issuer_key_mismatch" in problem_codes(report) and DID_WEB not in asked
    assert verify_credential(forged, now=NOW, documents=network).verified  # unpinned, the served document decides
    genuine = sign(_issued_by(DID_WEB, ours), ours)
    assert verify_credential(genuine, now=NOW, documents=network, known_issuers=pins).verified
    source = pinned_documents(pins, network)
    assert source(DID_WEB) is pins[DID_WEB] and source("did:web:other.example") is None


def test_a_pinned_did_key_with_no_keys_is_a_revoked_key(keys) -> None:
    ours, _ = keys
    credential = sign(_issued_by(ours.did, ours), ours)
    assert verify_credential(credential, now=NOW, known_issuers={ours.did: did_key_document(ours.did)}).verified
    revoked = {ours.did: {**did_key_document(ours.did), "assertionMethod": []}}
    report = verify_credential(credential, now=NOW, known_issuers=revoked)
    assert not report.verified and "key_not_in_document" in problem_codes(report)


def test_each_document_is_asked_for_once_per_verification(keys) -> None:
    issuer_key, _ = keys
    asked: list[str] = []

    def counting(controller: str) -> dict[str, Any] | None:
        asked.append(controller)
        raise FetchError("unreachable", code="fetch_timeout")

    vm = f"{DID_WEB}#{issuer_key.multibase}"
    document = sign(_issued_by(DID_WEB, issuer_key), issuer_key, verification_method=vm)
    verify_credential(document, now=NOW, documents=counting)
    assert asked == [DID_WEB]  # resolving the key and binding it to the issuer read the same answer


@pytest.mark.parametrize("hostile", [
    {"id": DID_WEB, "assertionMethod": 7}, {"id": DID_WEB, "assertionMethod": {"id": 1}},
    {"id": DID_WEB, "verificationMethod": "x", "assertionMethod": [None, 3, {"id": None}]},
    {"id": DID_WEB, "assertionMethod": [{"id": "#k", "publicKeyJwk": "not a jwk"},
                                        {"id": "#m", "publicKeyMultibase": 5}]},
    [], "a string", 42,
], ids=["number", "object", "junk-items", "bad-keys", "list", "string", "int"])
def test_a_hostile_issuer_document_is_a_verdict_not_a_crash(keys, hostile: Any) -> None:
    issuer_key, _ = keys
    for vm in (issuer_key.verification_method, f"{DID_WEB}#{issuer_key.multibase}", f"{DID_WEB}#k"):
        document = sign(_issued_by(DID_WEB, issuer_key), issuer_key, verification_method=vm)
        report = verify_credential(document, now=NOW, documents=lambda c, h=hostile: h if c == DID_WEB else None)
        assert not report.verified
