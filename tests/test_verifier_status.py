"""verifier/status.py: Bitstring Status List encoding (W3C BSL v1.0 §4) and the status check.

Positive: the W3C spec examples and the 1EdTech validator's revoked vectors. Negative: every way a
fetched list can be untrustworthy or unreadable gives "status unknown" (a WARNING with a reason),
never PASSED, and never a crash.
"""

from __future__ import annotations

import base64
import copy
import gzip
import os
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from verifier_support import DERIVED, NOW, OB30, Ed25519Key, LocalSite, load_json, new_key, sign, unsigned_simple

from verifier import Status, verify_credential
from verifier.presented import verify_presented
from verifier.status import (
    MAX_DECODED,
    MIN_ENTRIES,
    StatusListError,
    TrustedLists,
    decode_list,
    encode_list,
    entry_status,
    read_status,
    status_list_checker,
    write_status,
)

LIST_URL = "https://issuer.example/status/abc"
VC_V2 = "https://www.w3.org/ns/credentials/v2"
BSL_EXAMPLES = ["bsl-spec-example-status-list-credential.json",
                "bsl-spec-example-bitstringstatuslistcredential-minimal.json"]
REVOKED_VECTORS = ["credential-status-revoked.json", "credential-status-revoked-blank-nodes.json"]


def _b64url(data: bytes) -> str:
    return "u" + base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- encoding (§4) -------------------------------------------------------------------------------


def test_encode_decode_round_trip() -> None:
    bits = os.urandom(MIN_ENTRIES // 8)
    encoded = encode_list(bits)
    assert encoded.startswith("u") and "=" not in encoded and "+" not in encoded and "/" not in encoded
    assert decode_list(encoded) == bits
    assert encode_list(bits) == encoded  # no timestamp in the GZIP header: the same bits, the same text


def test_bit_zero_is_the_leftmost_bit_of_the_first_byte() -> None:
    hand_built = bytes([0b1010_0000, 0b0000_0001])
    assert [read_status(hand_built, i) for i in range(16)] == [1, 0, 1] + [0] * 12 + [1]
    bits = bytearray(2)
    write_status(bits, 0, 1)
    assert bits == bytearray([0x80, 0])
    write_status(bits, 15, 1)
    write_status(bits, 0, 0)
    assert bits == bytearray([0, 0x01])


def test_status_size_two_reads_and_writes_two_bits_most_significant_first() -> None:
    bits = bytearray(4)
    write_status(bits, 5, 2, size=2)  # entry 5 = bits 10 and 11: "10"
    assert bits == bytearray([0, 0b0010_0000, 0, 0])
    write_status(bits, 6, 1, size=2)  # bits 12 and 13: "01"
    assert bits[1] == 0b0010_0100
    assert [read_status(bytes(bits), i, 2) for i in range(8)] == [0, 0, 0, 0, 0, 2, 1, 0]
    for value in range(4):
        write_status(bits, 15, value, size=2)
        assert read_status(bytes(bits), 15, 2) == value
    assert read_status(bytes(bits), 14, 2) == 0  # the neighbours are untouched
    with pytest.raises(StatusListError):
        write_status(bits, 1, 4, size=2)
    with pytest.raises(StatusListError):
        read_status(bytes(bits), 16, 2)


@pytest.mark.parametrize("name", BSL_EXAMPLES)
def test_bsl_spec_example_lists_decode_to_131072_zero_bits(name: str) -> None:
    bits = decode_list(load_json(DERIVED / name)["credentialSubject"]["encodedList"])
    assert len(bits) * 8 == 131_072 and not any(bits)


def test_bsl_spec_example_revocable_credential_reads_not_revoked() -> None:
    entry = load_json(DERIVED / "bsl-spec-example-revocable-credential.json")["credentialStatus"]
    status = entry_status(entry, load_json(DERIVED / BSL_EXAMPLES[0]))
    assert (status.purpose, status.value) == ("revocation", 0)


def test_1edtech_testlist_has_exactly_bit_23_set() -> None:
    bits = decode_list(load_json(OB30 / "bit-string-list/testlist")["credentialSubject"]["encodedList"])
    assert len(bits) * 8 == 131_072
    assert [i for i in range(len(bits) * 8) if read_status(bits, i)] == [23]


@pytest.mark.parametrize("name", REVOKED_VECTORS)
def test_1edtech_revoked_vectors_verify_as_revoked(name: str) -> None:
    credential = load_json(OB30 / "bit-string-list" / name)
    url = credential["credentialStatus"]["statusListCredential"]
    testlist = load_json(OB30 / "bit-string-list/testlist")
    fetched: list[str] = []

    def fetch(asked: str) -> dict[str, Any] | None:
        fetched.append(asked)
        return copy.deepcopy(testlist) if asked == url else None

    report = verify_credential(credential, now=NOW, status_checker=status_list_checker(fetch, documents=None, now=NOW))
    assert fetched == [url]
    assert report.check("proof").status is Status.PASSED
    assert report.check("status").status is Status.FAILED
    assert "revoked" in report.check("status").message.lower()
    assert not report.verified


# --- a credential and a list of our own making, so each defect is the only one ------------------


def _credential(issuer: Ed25519Key, index: int = 7, purpose: str = "revocation", **entry: Any) -> dict[str, Any]:
    status = {"id": f"{LIST_URL}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": purpose,
              "statusListIndex": str(index), "statusListCredential": LIST_URL, **entry}
    return sign(unsigned_simple(issuer, credentialStatus=status), issuer)


def _list(issuer_id: str, *, set_index: int | None = None, purpose: str = "revocation",
          encoded: str | None = None, **overrides: Any) -> dict[str, Any]:
    bits = bytearray(MIN_ENTRIES // 8)
    if set_index is not None:
        write_status(bits, set_index, 1)
    document = {"@context": [VC_V2], "id": LIST_URL, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                "issuer": issuer_id, "validFrom": "2025-01-01T00:00:00Z", "validUntil": "2027-01-01T00:00:00Z",
                "credentialSubject": {"id": f"{LIST_URL}#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                                      "encodedList": encoded if encoded is not None else encode_list(bytes(bits))}}
    document.update(overrides)
    return document


def _status(credential: dict[str, Any], listed: Any, trusted: TrustedLists | None = None) -> Any:
    def fetch(url: str) -> Any:
        return copy.deepcopy(listed) if url == LIST_URL else None

    checker = status_list_checker(fetch, documents=None, now=NOW, trusted=trusted)
    return verify_credential(credential, now=NOW, status_checker=checker).check("status")


@pytest.fixture(scope="module")
def issuer() -> Ed25519Key:
    return new_key()


def test_a_good_list_passes_and_a_set_bit_fails(issuer: Ed25519Key) -> None:
    credential = _credential(issuer, index=7)
    assert _status(credential, sign(_list(issuer.did), issuer)).status is Status.PASSED
    assert _status(credential, sign(_list(issuer.did, set_index=8), issuer)).status is Status.PASSED
    revoked = _status(credential, sign(_list(issuer.did, set_index=7), issuer))
    assert revoked.status is Status.FAILED and "Revoked" in revoked.message


def test_a_message_list_with_status_size_two_says_suspended(issuer: Ed25519Key) -> None:
    messages = [{"status": "0x0", "message": "valid"}, {"status": "0x1", "message": "revoked"},
                {"status": "0x2", "message": "suspended"}, {"status": "0x3", "message": "revoked"}]
    credential = _credential(issuer, index=9, purpose="message", statusSize=2, statusMessage=messages)
    bits = bytearray(MIN_ENTRIES * 2 // 8)
    for value, word, ok in [(0, "valid", True), (2, "suspended", False), (1, "revoked", False)]:
        write_status(bits, 9, value, size=2)
        listed = _list(issuer.did, purpose="message", encoded=encode_list(bytes(bits)))
        check = _status(credential, sign(listed, issuer))
        assert check.ok is ok and word in check.message


def _gzip_bomb() -> str:
    return _b64url(gzip.compress(bytes(MAX_DECODED + 1024 * 1024), compresslevel=9))


UNKNOWN_CASES = {
    "garbage encodedList": (lambda did: _list(did, encoded="u%%%not*base64%%%"), "cannot be decoded"),
    "encodedList not a string": (lambda did: _list(did, encoded=""), "no encodedList"),
    "not gzip": (lambda did: _list(did, encoded=_b64url(b"just some bytes, not a gzip stream" * 8)),
                 "cannot be decoded"),
    "gzip cut off": (lambda did: _list(did, encoded=_b64url(gzip.compress(bytes(MIN_ENTRIES // 8))[:-12])),
                     "incomplete"),
    "gzip bomb": (lambda did: _list(did, encoded=_gzip_bomb()), "16 MB"),
    "wrong type": (lambda did: _list(did, type=["VerifiableCredential"]), "not a status list credential"),
    "purpose mismatch": (lambda did: _list(did, purpose="suspension"), "not 'revocation'"),
    "index out of range": (lambda did: _list(did, encoded=encode_list(bytes(MIN_ENTRIES // 8 // 2))), "no entry 99999"),
    "expired list": (lambda did: _list(did, validUntil="2025-06-01T00:00:00Z"), "validity"),
    "list not yet valid": (lambda did: _list(did, validFrom="2026-06-01T00:00:00Z"), "validity"),
}


@pytest.mark.parametrize("case", list(UNKNOWN_CASES))
def test_an_unreadable_or_untrustworthy_list_gives_status_unknown(issuer: Ed25519Key, case: str) -> None:
    make, reason = UNKNOWN_CASES[case]
    check = _status(_credential(issuer, index=99_999), sign(make(issuer.did), issuer))  # signed by the issuer
    assert check.status is Status.WARNING, check
    assert check.message.startswith("Status unknown") and reason in check.message, check.message


def test_a_list_whose_proof_was_tampered_with_gives_status_unknown(issuer: Ed25519Key) -> None:
    listed = sign(_list(issuer.did), issuer)
    listed["credentialSubject"]["encodedList"] = encode_list(bytes(MIN_ENTRIES // 8 - 1) + b"\x01")
    check = _status(_credential(issuer), listed)
    assert check.status is Status.WARNING and "proof" in check.message


def test_a_trusted_list_is_remembered_by_content_never_by_address(issuer: Ed25519Key) -> None:
    """The verified-list memo (a batch checks thousands of credentials against one list) must not
    let a changed list, or a list past its validUntil, ride on an earlier good verdict."""
    credential = _credential(issuer, index=7)
    trusted = TrustedLists()  # one memo across every check below, as a batch worker keeps it
    good = sign(_list(issuer.did), issuer)
    assert _status(credential, good, trusted).status is Status.PASSED  # now in the memo
    tampered = copy.deepcopy(good)
    write_bits = bytearray(MIN_ENTRIES // 8)
    write_status(write_bits, 7, 1)
    tampered["credentialSubject"]["encodedList"] = encode_list(bytes(write_bits))  # same URL, same proof
    check = _status(credential, tampered, trusted)
    assert check.status is Status.WARNING and "proof" in check.message
    later = datetime(2027, 6, 1, tzinfo=timezone.utc)  # after the list's validUntil
    stale = verify_credential(credential, now=later, status_checker=status_list_checker(
        lambda url: copy.deepcopy(good), documents=None, now=later, trusted=trusted)).check("status")
    assert stale.status is Status.WARNING and "validity" in stale.message


def test_a_list_without_a_proof_gives_status_unknown(issuer: Ed25519Key) -> None:
    check = _status(_credential(issuer), _list(issuer.did))
    assert check.status is Status.WARNING and "proof" in check.message


def test_a_list_issued_by_someone_else_gives_status_unknown(issuer: Ed25519Key) -> None:
    stranger = new_key()
    check = _status(_credential(issuer), sign(_list(stranger.did), stranger))
    assert check.status is Status.WARNING and "someone other than the credential's issuer" in check.message


@pytest.mark.parametrize("claimed", ["did:key", "https"])
def test_a_list_naming_the_issuer_but_signed_by_another_key_gives_status_unknown(claimed: str) -> None:
    """Whoever controls the list's URL (or the network) must not be able to clear a revocation."""
    issuer, stranger = new_key(), new_key()
    if claimed == "did:key":
        credential = _credential(issuer)
        issuer_id = issuer.did
    else:  # an https issuer, as in the 1EdTech vectors: a key named after the issuer signs
        issuer_id = "https://issuer.example/profile"
        document = unsigned_simple(issuer, credentialStatus=_credential(issuer)["credentialStatus"])
        document["issuer"]["id"] = issuer_id
        credential = sign(document, issuer, verification_method=f"{issuer_id}#{issuer.multibase}")
    forged = sign(_list(issuer_id), stranger)  # claims the issuer, signed with the stranger's did:key
    check = _status(credential, forged)
    assert check.status is Status.WARNING and check.message.startswith("Status unknown"), check.message


@pytest.mark.parametrize("listed", [None, [], "a string", 42], ids=["unfetchable", "array", "string", "number"])
def test_an_unfetchable_or_non_object_list_gives_status_unknown(issuer: Ed25519Key, listed: Any) -> None:
    check = _status(_credential(issuer), listed)
    assert check.status is Status.WARNING and check.message.startswith("Status unknown")


def test_an_unfetchable_list_names_its_url(issuer: Ed25519Key) -> None:
    check = _status(_credential(issuer), None)
    assert LIST_URL in check.message and "could not be fetched" in check.message


def test_an_unsupported_status_method_gives_status_unknown(issuer: Ed25519Key) -> None:
    document = unsigned_simple(issuer, credentialStatus={"id": "https://issuer.example/rl#1",
                                                         "type": "https://issuer.example/vocab#StatusMethod2099"})
    check = _status(sign(document, issuer), None)
    assert check.status is Status.WARNING and "not supported" in check.message


def test_a_list_is_checked_at_the_verifiers_clock(issuer: Ed25519Key) -> None:
    listed = sign(_list(issuer.did, validUntil="2026-01-02T00:00:00Z"), issuer)
    credential = _credential(issuer)

    def check_at(moment) -> Status:
        checker = status_list_checker(lambda url: copy.deepcopy(listed), documents=None, now=moment)
        return verify_credential(credential, now=moment, status_checker=checker).check("status").status

    assert check_at(NOW) is Status.PASSED
    assert check_at(NOW + timedelta(days=2)) is Status.WARNING


def test_status_list_errors_never_escape_as_exceptions(issuer: Ed25519Key) -> None:
    """Odd entries (index not a number, statusSize out of range) are a WARNING, not a crash."""
    for entry in ({"statusListIndex": "seven"}, {"statusSize": 9}, {"statusListIndex": None}):
        document = unsigned_simple(issuer)
        document["credentialStatus"] = {**_credential(issuer)["credentialStatus"], **entry}
        check = _status(sign(document, issuer), sign(_list(issuer.did), issuer))
        assert check.status is Status.WARNING, (entry, check)


# --- status read through the Fetcher (a local site stands in for the issuers' hosts) ----------

TESTLIST_HOST = "raw.githubusercontent.com"
TESTLIST_PATH = ("/1EdTech/digital-credentials-public-validator/refs/heads/main/inspector-vc/src/test/resources/"
                 "ob30/bit-string-list/testlist")


@pytest.mark.parametrize("name", REVOKED_VECTORS)
def test_1edtech_revoked_vectors_through_the_fetcher(name: str) -> None:
    credential = load_json(OB30 / "bit-string-list" / name)
    routes = {(TESTLIST_HOST, TESTLIST_PATH): (OB30 / "bit-string-list/testlist").read_bytes()}
    with LocalSite(routes) as site:
        report = verify_presented(credential, now=NOW, fetcher=site.fetcher())
        assert report.check("proof").status is Status.PASSED
        assert report.check("status").status is Status.FAILED and not report.verified
        # the production rules never reach a private address: status unknown, nothing sent
        refused = verify_presented(credential, now=NOW, fetcher=site.fetcher(allowed=False))
        assert refused.check("status").status is Status.WARNING
        assert "local or private network address" in refused.check("status").message
        assert "status_unknown" in {p.code for p in refused.problems}
        assert len(site.hits) == 1


def test_a_status_list_that_is_not_a_status_list_is_named(issuer: Ed25519Key) -> None:
    credential = _credential(issuer)
    with LocalSite({("issuer.example", "/status/abc"): {"hello": "world"}}) as site:
        report = verify_presented(credential, now=NOW, fetcher=site.fetcher())
        assert report.check("status").status is Status.WARNING and "status_unknown" in {p.code for p in report.problems}


REVOCATIONS = "https://issuer.example/revocations"


def _rl_credential(issuer: Ed25519Key) -> dict[str, Any]:
    status = {"id": REVOCATIONS, "type": "1EdTechRevocationList"}
    document = unsigned_simple(issuer, credentialStatus=status)
    document["@context"] = [*document["@context"], "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"]
    return sign(document, issuer)


@pytest.mark.parametrize("case, expected, words", [
    ("revoked", Status.FAILED, "Revoked by the issuer: Issued in error."),
    ("kept", Status.PASSED, "Not revoked"),
    ("not a list", Status.WARNING, "not a revocation list"),
    ("someone else's", Status.WARNING, "someone other than"),
    ("missing", Status.WARNING, "could not be fetched"),
])
def test_1edtech_revocation_lists(issuer: Ed25519Key, case: str, expected: Status, words: str) -> None:
    credential = _rl_credential(issuer)
    listed: Any = {"id": REVOCATIONS, "issuer": issuer.did, "revokedCredentials": [{"id": "urn:uuid:other"}]}
    if case == "revoked":
        listed["revokedCredentials"].append({"id": credential["id"], "revocationReason": "Issued in error"})
    elif case == "not a list":
        listed = {"id": REVOCATIONS}
    elif case == "someone else's":
        listed.update(issuer="did:example:else", revokedCredentials=[credential["id"]])
    routes = {} if case == "missing" else {("issuer.example", "/revocations"): listed}
    with LocalSite(routes, hosts=("issuer.example",)) as site:
        check = verify_presented(credential, now=NOW, fetcher=site.fetcher()).check("status")
        assert check.status is expected and words in check.message, check.message
