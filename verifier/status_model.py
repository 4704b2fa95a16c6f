"""The Bitstring Status List data model (W3C BSL v1.0 §2): an entry read against its list (§3.2
Validate Algorithm), and the entries and list credentials an issuer writes.

Anything that breaks a MUST of §2 is a StatusListError (MALFORMED_VALUE_ERROR): the caller
reports "status unknown", never a pass. StatusList2021 (the predecessor) is read the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .bitstring import StatusListError, check_length, decoded_bits, encode_list, read_status
from .document_loader import VC_V2
from .timeutil import format_datetime

ENTRY_TO_LIST = {"BitstringStatusListEntry": "BitstringStatusListCredential",
                 "StatusList2021Entry": "StatusList2021Credential"}
LIST_TO_SUBJECT = {"BitstringStatusListCredential": "BitstringStatusList", "StatusList2021Credential": "StatusList2021"}
MAX_STATUS_SIZE = 8  # 256 status values; wider entries are refused rather than guessed at
_INDEX = re.compile(r"^[0-9]{1,18}$")
_HEX = re.compile(r"^0x[0-9a-fA-F]{1,4}$")

# §2.2 asks a "message" list for credentialSubject.statusSize and statusMessages, but the VC 2.0
# context defines neither on BitstringStatusList (w3c/vc-bitstring-status-list#175), so a list
# carrying them would not sign in JSON-LD safe mode. This context defines them with the
# status vocabulary's own IRIs.
_STATUS = "https://www.w3.org/ns/credentials/status#"
MESSAGE_LIST_TERMS = {
    "statusSize": {"@id": _STATUS + "statusSize", "@type": "http://www.w3.org/2001/XMLSchema#integer"},
    "statusMessages": {"@id": _STATUS + "statusMessage",
                       "@context": {"message": _STATUS + "message", "status": _STATUS + "status"}},
}


@dataclass(frozen=True)
class EntryStatus:
    """What the list says about one entry (§3.2 step 11-13 `result`)."""

    purpose: str
    index: int
    size: int
    value: int
    message: str | None  # the statusMessage of this value, when the issuer published one

    @property
    def valid(self) -> bool:
        return self.value == 0


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def status_list_index(value: Any) -> int:
    """§2.1 statusListIndex: a base-10 integer string (the 1EdTech vectors use a JSON number)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and _INDEX.match(value):
        return int(value)
    raise StatusListError(f"The status entry's statusListIndex {value!r} is not a whole number written in base 10.")


def status_size(value: Any, where: str = "The status entry's") -> int:
    """§2.1 statusSize: an integer greater than zero (at most 8 bits here)."""
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_STATUS_SIZE:
        raise StatusListError(f"{where} statusSize {value!r} is not a whole number from 1 to {MAX_STATUS_SIZE}.")
    return value


def status_messages(value: Any, size: int, where: str) -> dict[int, str]:
    """§2.1 statusMessage: 2^size objects, each a distinct "0x" hexadecimal status and a message."""
    count = 1 << size
    if not isinstance(value, list) or len(value) != count:
        raise StatusListError(f"{where} must list {count} status messages (one per value of {size} bit(s)).")
    messages: dict[int, str] = {}
    for item in value:
        status = item.get("status") if isinstance(item, dict) else None
        message = item.get("message") if isinstance(item, dict) else None
        if not isinstance(status, str) or not _HEX.match(status):
            raise StatusListError(f"{where} has a status {status!r} that is not a 0x-prefixed hexadecimal value.")
        if not isinstance(message, str):
            raise StatusListError(f"{where} has no message text for status {status}.")
        number = int(status, 16)
        if number >= count:
            raise StatusListError(f"{where} names status {status}, out of the range of {size} bit(s).")
        if number in messages:
            raise StatusListError(f"{where} names status {status} twice.")
        messages[number] = message
    return messages


def _entry_messages(entry: dict[str, Any], purpose: str, size: int) -> dict[int, str]:
    """The issuer's commitment at issuance: required for statusSize > 1 and for "message"."""
    if purpose == "message" and "statusSize" not in entry:
        raise StatusListError("A \"message\" status entry must give its statusSize.")
    if "statusMessage" in entry or size > 1 or purpose == "message":
        if "statusMessage" not in entry:
            raise StatusListError(f"A status entry of {size} bit(s) for {purpose!r} must carry its statusMessage.")
        return status_messages(entry["statusMessage"], size, "The status entry's statusMessage")
    return {}


def _list_subject(entry: dict[str, Any], list_credential: Any) -> dict[str, Any]:
    """The list's credentialSubject, once the list's types fit the entry's (§2.2)."""
    entry_type = next((t for t in _types(entry.get("type")) if t in ENTRY_TO_LIST), None)
    list_type = ENTRY_TO_LIST.get(entry_type or "", "BitstringStatusListCredential")
    types = _types(list_credential.get("type")) if isinstance(list_credential, dict) else []
    subject = list_credential.get("credentialSubject") if isinstance(list_credential, dict) else None
    if list_type not in types or not isinstance(subject, dict):
        raise StatusListError(f"The statusListCredential is not a {list_type}.")
    if LIST_TO_SUBJECT[list_type] not in _types(subject.get("type")):
        raise StatusListError(f"The status list's credentialSubject is not a {LIST_TO_SUBJECT[list_type]}.")
    return subject


def _list_messages(subject: dict[str, Any], size: int) -> dict[int, str]:
    """§2.2: a "message" list defines its statusSize and statusMessages itself."""
    if "statusSize" not in subject:
        raise StatusListError("A \"message\" status list must give its own statusSize.")
    if status_size(subject["statusSize"], "The status list's") != size:
        raise StatusListError(f"The status list's statusSize {subject['statusSize']} is not the entry's {size}.")
    if "statusMessages" not in subject:
        raise StatusListError("A \"message\" status list must define its statusMessages.")
    return status_messages(subject["statusMessages"], size, "The status list's statusMessages")


def entry_status(entry: dict[str, Any], list_credential: Any) -> EntryStatus:
    """§3.2: read one credentialStatus entry from its (already verified) list; raises StatusListError."""
    purpose = entry.get("statusPurpose")
    if not isinstance(purpose, str) or not purpose:
        raise StatusListError("The status entry has no statusPurpose.")
    if entry.get("id") is not None and entry.get("id") == entry.get("statusListCredential"):
        raise StatusListError("The status entry's id is the status list's URL, which the spec forbids.")
    index = status_list_index(entry.get("statusListIndex"))
    size = status_size(entry.get("statusSize", 1))
    messages = _entry_messages(entry, purpose, size)
    subject = _list_subject(entry, list_credential)
    purposes = _types(subject.get("statusPurpose"))
    if purpose not in purposes:  # §3.2 step 5
        raise StatusListError(f"The status list is for {', '.join(map(str, purposes)) or 'no purpose'}, "
                              f"not {purpose!r}.")
    list_messages = _list_messages(subject, size) if purpose == "message" else {}
    bits = decoded_bits(subject.get("encodedList"))
    check_length(bits, size)
    value = read_status(bits, index, size)
    return EntryStatus(purpose, index, size, value, messages.get(value, list_messages.get(value)))


def describe(status: EntryStatus) -> tuple[bool, str]:
    """(is the credential in good standing, what to tell a person): `valid` is status 0 (§3.2
    step 12), except that a refresh status never invalidates a credential (§2.1)."""
    if status.purpose == "refresh":
        return True, ("An updated version of this credential is available from the issuer." if status.value
                      else "No update of this credential is announced.")
    if status.size == 1 and status.purpose in ("revocation", "suspension"):
        word = "Revoked" if status.purpose == "revocation" else "Suspended"
        return status.valid, f"{word} by the issuer." if status.value else f"Not {word.lower()}."
    said = f"status {status.value:#x}" + (f" (“{status.message}”)" if status.message is not None else "")
    if status.valid:
        return True, f"The issuer's status list gives {said}."
    lead = {"revocation": "Revoked by the issuer", "suspension": "Suspended by the issuer"}.get(status.purpose)
    return False, f"{lead or 'Not in good standing'}: the issuer's status list gives {said}."


# --- writing (what an issuer publishes) ----------------------------------------------------------


def _message_list(messages: Mapping[int, str] | None, size: int, where: str) -> list[dict[str, str]]:
    if messages is None:
        raise StatusListError(f"{where} of {size} bit(s) need statusMessages, one per value.")
    written = [{"status": f"{value:#x}", "message": text} for value, text in sorted(messages.items())]
    status_messages(written, size, where)
    return written


def status_list_entry(list_url: str, index: int, *, purpose: str = "revocation", size: int = 1,
                      messages: Mapping[int, str] | None = None) -> dict[str, Any]:
    """A BitstringStatusListEntry (§2.1) for entry `index` of the list at `list_url`."""
    status_size(size)
    entry: dict[str, Any] = {"id": f"{list_url}#{index}", "type": "BitstringStatusListEntry",
                             "statusPurpose": purpose, "statusListIndex": str(index), "statusListCredential": list_url}
    if size > 1 or purpose == "message" or messages is not None:
        entry["statusSize"] = size
        entry["statusMessage"] = _message_list(messages, size, "Status entries")
    return entry


def status_list_credential(list_url: str, *, issuer: str, purpose: str, bits: bytes, valid_from: datetime,
                           valid_until: datetime | None = None, size: int = 1,
                           messages: Mapping[int, str] | None = None, ttl_ms: int | None = None) -> dict[str, Any]:
    """An unsigned BitstringStatusListCredential (§2.2, §3.1) for `bits`; sign it with add_proof.

    A "message" list carries its statusSize and statusMessages (and the context defining them)."""
    check_length(bits, status_size(size))
    subject: dict[str, Any] = {"id": f"{list_url}#list", "type": "BitstringStatusList", "statusPurpose": purpose,
                               "encodedList": encode_list(bits)}
    context: list[Any] = [VC_V2]
    if purpose == "message":
        subject["statusSize"] = size
        subject["statusMessages"] = _message_list(messages, size, "Message lists")
        context.append(MESSAGE_LIST_TERMS)
    if ttl_ms is not None:
        subject["ttl"] = ttl_ms
    document: dict[str, Any] = {"@context": context, "id": list_url,
                                "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                                "issuer": issuer, "validFrom": format_datetime(valid_from)}
    if valid_until is not None:
        document["validUntil"] = format_datetime(valid_until)
    document["credentialSubject"] = subject
    return document
