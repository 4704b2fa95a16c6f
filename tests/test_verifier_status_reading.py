"""Reading other issuers' status lists by the W3C Bitstring Status List v1.0 rules, and writing ours.

The spec (§2.1 BitstringStatusListEntry, §2.2 BitstringStatusListCredential, §3.2 Validate
Algorithm, §6.1 Bitstring Encoding): entry i of statusSize s is bits i*s .. i*s+s-1, bit 0 the
left-most bit of the bitstring; statusSize > 1 needs a statusMessage of 2^s values; a "message"
list carries its own statusSize and statusMessages; a list shorter than 131,072 entries is a
STATUS_LIST_LENGTH_ERROR; `valid` is status 0. Anything malformed gives "status unknown"
(MALFORMED_VALUE_ERROR), never a pass. Hand-built vectors: each is the only defect of its case.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from verifier import Status, verify_credential
from verifier.bitstring import MIN_ENTRIES, decode_list, encode_list, new_bitstring, read_status, write_status
from verifier.status import status_list_checker
from verifier.status_model import StatusListError, entry_status, status_list_credential, status_list_entry

from verifier_support import DERIVED, NOW, OB30, Ed25519Key, load_json, new_key, sign, unsigned_simple

LIST_URL = "https://issuer.example/status/7"
MESSAGES = {0: "valid", 1: "revoked", 2: "suspended", 3: "revoked"}


@pytest.fixture(scope="module")
def issuer() -> Ed25519Key:
    return new_key()


def _signed_list(issuer: Ed25519Key, bits: bytes, *, purpose: str = "revocation", size: int = 1,
                 messages: dict[int, str] | None = None, **subject: Any) -> dict[str, Any]:
    listed = status_list_credential(LIST_URL, issuer=issuer.did, purpose=purpose, bits=bits, size=size,
                                    messages=messages, valid_from=NOW.replace(year=2025))
    listed["credentialSubject"].update(subject)
    return sign(listed, issuer)


def _credential(issuer: Ed25519Key, entry: dict[str, Any]) -> dict[str, Any]:
    return sign(unsigned_simple(issuer, credentialStatus=entry), issuer)


def _check(credential: dict[str, Any], listed: Any) -> Any:
    checker = status_list_checker(lambda url: copy.deepcopy(listed) if url == LIST_URL else None,
                                  documents=None, now=NOW)
    return verify_credential(credential, now=NOW, status_checker=checker).check("status")


# --- bit order (§6.1): the left-most bit is index 0; a wider entry reads its bits left to right ---


def test_the_first_index_is_the_leftmost_bit_and_the_last_the_rightmost() -> None:
    bits = new_bitstring()
    assert len(bits) * 8 == MIN_ENTRIES and not any(bits)
    write_status(bits, 0, 1)
    write_status(bits, MIN_ENTRIES - 1, 1)
    assert bits[0] == 0b1000_0000 and bits[-1] == 0b0000_0001 and not any(bits[1:-1])


@pytest.mark.parametrize("size, index, value, expected_bytes", [
    (2, 0, 0b10, [0b1000_0000, 0]),            # bits 0,1 = "10"
    (2, 3, 0b01, [0b0000_0001, 0]),            # bits 6,7 = "01"
    (2, 4, 0b11, [0, 0b1100_0000]),            # bits 8,9 = "11"
    (3, 2, 0b101, [0b0000_0010, 0b1000_0000]),  # bits 6,7,8 = "101", across a byte boundary
    (4, 1, 0b0110, [0b0000_0110, 0]),          # bits 4..7 = "0110"
])
def test_a_wide_entry_is_bits_index_times_size_onwards_most_significant_first(
        size: int, index: int, value: int, expected_bytes: list[int]) -> None:
    bits = bytearray(2)
    write_status(bits, index, value, size)
    assert list(bits) == expected_bytes
    assert read_status(bytes(bits), index, size) == value
    others = [read_status(bytes(bits), i, size) for i in range(16 // size) if i != index]
    assert not any(others)  # the neighbours read 0


def test_a_neighbours_revocation_never_shows_on_a_two_bit_entry(issuer: Ed25519Key) -> None:
    """A one-bit reader of a two-bit list reads bit i, not bits 2i/2i+1: wrong both ways. We read 2i."""
    messages = [{"status": f"{v:#x}", "message": m} for v, m in MESSAGES.items()]
    entry = status_list_entry(LIST_URL, 10, purpose="message", size=2, messages=MESSAGES)
    assert entry["statusMessage"] == messages and entry["statusSize"] == 2
    credential = _credential(issuer, entry)
    bits = new_bitstring(size=2)
    write_status(bits, 5, 2, 2)   # bits 10-11 = "10": a one-bit reader of index 10 would see it
    write_status(bits, 11, 2, 2)  # bits 22-23: the next credential, suspended
    listed = _signed_list(issuer, bytes(bits), purpose="message", size=2, messages=MESSAGES)
    assert _check(credential, listed).status is Status.PASSED
    write_status(bits, 10, 2, 2)
    suspended = _check(credential, _signed_list(issuer, bytes(bits), purpose="message", size=2, messages=MESSAGES))
    assert suspended.status is Status.FAILED and "suspended" in suspended.message


# --- the published examples and vectors -----------------------------------------------------


def test_the_spec_examples_read_not_revoked_at_every_sampled_index() -> None:
    listed = load_json(DERIVED / "bsl-spec-example-status-list-credential.json")
    entry = load_json(DERIVED / "bsl-spec-example-revocable-credential.json")["credentialStatus"]
    for index in ("0", "94567", str(MIN_ENTRIES - 1)):
        status = entry_status({**entry, "statusListIndex": index}, listed)
        assert (status.purpose, status.value, status.valid) == ("revocation", 0, True)
    with pytest.raises(StatusListError, match="no entry"):  # RANGE_ERROR
        entry_status({**entry, "statusListIndex": str(MIN_ENTRIES)}, listed)


def test_the_1edtech_testlist_reads_23_revoked_and_its_neighbours_not() -> None:
    listed = load_json(OB30 / "bit-string-list/testlist")
    entry = load_json(OB30 / "bit-string-list/credential-status-revoked.json")["credentialStatus"]
    assert entry["statusListIndex"] == 23  # a JSON number in this vector (the spec says a string)
    assert entry_status(entry, listed).value == 1
    for neighbour in (22, 24):
        assert entry_status({**entry, "statusListIndex": str(neighbour)}, listed).value == 0


# --- statusMessage and "message" lists (§2.1, §2.2) -------------------------------------------


def _message_entry(**changes: Any) -> dict[str, Any]:
    entry = status_list_entry(LIST_URL, 9, purpose="message", size=2, messages=MESSAGES)
    entry.update(changes)
    return {k: v for k, v in entry.items() if v is not None}


def _message_list(issuer: Ed25519Key, value: int = 0, **subject: Any) -> dict[str, Any]:
    bits = new_bitstring(size=2)
    write_status(bits, 9, value, 2)
    return _signed_list(issuer, bytes(bits), purpose="message", size=2, messages=MESSAGES, **subject)


def test_a_message_list_carries_its_own_status_size_and_messages() -> None:
    listed = status_list_credential(LIST_URL, issuer="did:example:1", purpose="message", size=2, messages=MESSAGES,
                                    bits=bytes(new_bitstring(size=2)), valid_from=NOW)
    subject = listed["credentialSubject"]
    assert subject["statusSize"] == 2
    assert subject["statusMessages"] == [{"status": f"{v:#x}", "message": m} for v, m in MESSAGES.items()]
    revocation = status_list_credential(LIST_URL, issuer="did:example:1", purpose="revocation",
                                        bits=bytes(new_bitstring()), valid_from=NOW)
    assert not {"statusSize", "statusMessages"} & set(revocation["credentialSubject"])


@pytest.mark.parametrize("value, ok, word", [(0, True, "valid"), (1, False, "revoked"), (2, False, "suspended"),
                                             (3, False, "revoked")])
def test_the_status_message_of_the_value_is_what_the_report_says(issuer: Ed25519Key, value: int, ok: bool,
                                                                 word: str) -> None:
    check = _check(_credential(issuer, _message_entry()), _message_list(issuer, value))
    assert check.ok is ok and f"“{word}”" in check.message and f"{value:#x}" in check.message, check.message


def test_only_status_zero_is_valid_whatever_its_message_says(issuer: Ed25519Key) -> None:
    """§3.2 step 12: `valid` is true when the status is 0, false otherwise."""
    labels = {0: "pending", 1: "valid", 2: "ok", 3: "active"}
    entry = _message_entry(statusMessage=[{"status": f"{v:#x}", "message": m} for v, m in labels.items()])
    bits = new_bitstring(size=2)
    write_status(bits, 9, 1, 2)
    listed = _signed_list(issuer, bytes(bits), purpose="message", size=2, messages=labels)
    check = _check(_credential(issuer, entry), listed)
    assert check.status is Status.FAILED and "“valid”" in check.message


MALFORMED_MESSAGE_CASES = {
    "message entry without statusSize": (_message_entry(statusSize=None), {}, "statusSize"),
    "message entry without statusMessage": (_message_entry(statusMessage=None), {}, "statusMessage"),
    "too few messages": (_message_entry(statusMessage=[{"status": "0x0", "message": "valid"}]), {}, "4"),
    "not hexadecimal": (_message_entry(statusMessage=[{"status": s, "message": "m"} for s in ("0", "1", "2", "3")]),
                        {}, "0x"),
    "a value twice": (_message_entry(statusMessage=[{"status": s, "message": "m"}
                                                    for s in ("0x0", "0x1", "0x1", "0x3")]), {}, "twice"),
    "a value out of range": (_message_entry(statusMessage=[{"status": s, "message": "m"}
                                                           for s in ("0x0", "0x1", "0x2", "0x4")]), {}, "range"),
    "no message text": (_message_entry(statusMessage=[{"status": f"{v:#x}"} for v in range(4)]), {}, "message"),
    "list without statusSize": (_message_entry(), {"statusSize": None}, "statusSize"),
    "list without statusMessages": (_message_entry(), {"statusMessages": None}, "statusMessages"),
    "list with another statusSize": (_message_entry(), {"statusSize": 3}, "statusSize"),
    "list with malformed statusMessages": (_message_entry(), {"statusMessages": [{"status": "0x0", "message": "x"}]},
                                           "4"),
}


@pytest.mark.parametrize("case", list(MALFORMED_MESSAGE_CASES))
def test_a_malformed_message_entry_or_list_gives_status_unknown(issuer: Ed25519Key, case: str) -> None:
    entry, subject_changes, words = MALFORMED_MESSAGE_CASES[case]
    listed = _message_list(issuer, **{k: v for k, v in subject_changes.items() if v is not None})
    if any(v is None for v in subject_changes.values()):
        unsigned = {k: v for k, v in listed.items() if k != "proof"}
        for key in (k for k, v in subject_changes.items() if v is None):
            del unsigned["credentialSubject"][key]
        listed = sign(unsigned, issuer)
    check = _check(_credential(issuer, entry), listed)
    assert check.status is Status.WARNING and check.message.startswith("Status unknown"), check.message
    assert words in check.message, check.message


def test_a_wide_revocation_entry_needs_its_status_messages(issuer: Ed25519Key) -> None:
    entry = status_list_entry(LIST_URL, 9, purpose="revocation", size=2, messages=MESSAGES)
    listed = _signed_list(issuer, bytes(new_bitstring(size=2)), purpose="revocation")
    assert _check(_credential(issuer, entry), listed).status is Status.PASSED
    bare = {k: v for k, v in entry.items() if k != "statusMessage"}
    check = _check(_credential(issuer, bare), listed)
    assert check.status is Status.WARNING and "statusMessage" in check.message


# --- the entry and list themselves ---------------------------------------------------------------


@pytest.mark.parametrize("index", [True, 7.0, "+7", " 7", "-1", "7a", "", None, [7]])
def test_a_status_list_index_that_is_not_a_base_10_integer_gives_status_unknown(issuer: Ed25519Key,
                                                                                index: Any) -> None:
    entry = {**status_list_entry(LIST_URL, 7), "statusListIndex": index}
    check = _check(_credential(issuer, entry), _signed_list(issuer, bytes(new_bitstring())))
    assert check.status is Status.WARNING and "statusListIndex" in check.message, check.message


@pytest.mark.parametrize("size", [0, -1, True, "2", 2.5, 9])
def test_a_status_size_that_is_not_a_small_positive_integer_gives_status_unknown(issuer: Ed25519Key,
                                                                                 size: Any) -> None:
    entry = {**status_list_entry(LIST_URL, 7), "statusSize": size}
    check = _check(_credential(issuer, entry), _signed_list(issuer, bytes(new_bitstring())))
    assert check.status is Status.WARNING and "statusSize" in check.message, check.message


def test_a_list_shorter_than_131072_entries_is_a_length_error(issuer: Ed25519Key) -> None:
    short = _signed_list(issuer, bytes(new_bitstring()), encodedList=encode_list(bytes(MIN_ENTRIES // 8 - 1)))
    check = _check(_credential(issuer, status_list_entry(LIST_URL, 7)), short)
    assert check.status is Status.WARNING and "131,072" in check.message
    # A two-bit list needs twice the bits: 131,072 bits hold only 65,536 two-bit entries.
    entry = status_list_entry(LIST_URL, 7, purpose="message", size=2, messages=MESSAGES)
    half = _signed_list(issuer, bytes(new_bitstring(size=2)), purpose="message", size=2, messages=MESSAGES,
                        encodedList=encode_list(bytes(new_bitstring(size=1))))
    assert _check(_credential(issuer, entry), half).status is Status.WARNING


def test_the_list_subject_must_be_a_bitstring_status_list() -> None:
    listed = status_list_credential(LIST_URL, issuer="did:example:1", purpose="revocation",
                                    bits=bytes(new_bitstring()), valid_from=NOW)
    listed["credentialSubject"]["type"] = "StatusList2021"
    with pytest.raises(StatusListError, match="not a BitstringStatusList"):
        entry_status(status_list_entry(LIST_URL, 7), listed)
    listed["type"] = ["VerifiableCredential"]
    with pytest.raises(StatusListError, match="not a BitstringStatusListCredential"):
        entry_status(status_list_entry(LIST_URL, 7), listed)


def test_an_entry_whose_id_is_the_list_url_gives_status_unknown(issuer: Ed25519Key) -> None:
    entry = {**status_list_entry(LIST_URL, 7), "id": LIST_URL}  # §2.1: "It MUST NOT be the URL for the status list"
    check = _check(_credential(issuer, entry), _signed_list(issuer, bytes(new_bitstring())))
    assert check.status is Status.WARNING and "id" in check.message


def test_purposes_of_entry_and_list_must_match(issuer: Ed25519Key) -> None:
    suspension = _signed_list(issuer, bytes(new_bitstring()), purpose="suspension")
    check = _check(_credential(issuer, status_list_entry(LIST_URL, 7)), suspension)
    assert check.status is Status.WARNING and "'revocation'" in check.message
    both = _signed_list(issuer, bytes(new_bitstring()), statusPurpose=["suspension", "revocation"])
    assert _check(_credential(issuer, status_list_entry(LIST_URL, 7)), both).status is Status.PASSED


def test_a_set_refresh_bit_does_not_invalidate_the_credential(issuer: Ed25519Key) -> None:
    bits = new_bitstring()
    write_status(bits, 7, 1)
    listed = _signed_list(issuer, bytes(bits), purpose="refresh")
    check = _check(_credential(issuer, status_list_entry(LIST_URL, 7, purpose="refresh")), listed)
    assert check.status is Status.PASSED and "updated" in check.message


# --- writing one-bit revocation lists (what our issuer publishes) ------------------------------


def test_a_one_bit_revocation_list_set_while_suspended_and_cleared_on_reinstatement(issuer: Ed25519Key) -> None:
    entry = status_list_entry(LIST_URL, 4242)
    assert entry == {"id": f"{LIST_URL}#4242", "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                     "statusListIndex": "4242", "statusListCredential": LIST_URL}
    credential = _credential(issuer, entry)
    neighbour = _credential(issuer, status_list_entry(LIST_URL, 4243))
    bits = new_bitstring()
    states = []
    for step, value in (("issued", 0), ("suspended", 1), ("reinstated", 0), ("revoked", 1)):
        write_status(bits, 4242, value)
        listed = _signed_list(issuer, bytes(bits))
        assert decode_list(listed["credentialSubject"]["encodedList"]) == bytes(bits)
        states.append((step, _check(credential, listed).status, _check(neighbour, listed).status))
    assert states == [("issued", Status.PASSED, Status.PASSED), ("suspended", Status.FAILED, Status.PASSED),
                      ("reinstated", Status.PASSED, Status.PASSED), ("revoked", Status.FAILED, Status.PASSED)]


def test_the_list_credential_is_a_spec_shaped_unsigned_credential() -> None:
    listed = status_list_credential(LIST_URL, issuer="did:web:issuer.example", purpose="revocation",
                                    bits=bytes(new_bitstring()), valid_from=NOW, valid_until=NOW.replace(year=2027),
                                    ttl_ms=300_000)
    assert listed == {
        "@context": ["https://www.w3.org/ns/credentials/v2"], "id": LIST_URL,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": "did:web:issuer.example",
        "validFrom": "2026-01-01T00:00:00Z", "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": f"{LIST_URL}#list", "type": "BitstringStatusList", "statusPurpose": "revocation",
                              "encodedList": encode_list(bytes(new_bitstring())), "ttl": 300_000}}


@pytest.mark.parametrize("kwargs, words", [
    ({"bits": bytes(100)}, "131,072"),
    ({"size": 2, "purpose": "message"}, "statusMessages"),
    ({"size": 2, "purpose": "message", "messages": {0: "a", 1: "b"}}, "4"),
])
def test_the_writer_refuses_a_list_the_spec_forbids(kwargs: dict[str, Any], words: str) -> None:
    arguments = {"issuer": "did:example:1", "purpose": "revocation", "bits": bytes(new_bitstring(size=2)),
                 "valid_from": NOW, **kwargs}
    with pytest.raises(StatusListError, match=words):
        status_list_credential(LIST_URL, **arguments)
