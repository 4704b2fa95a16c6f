"""W3C Bitstring Status List v1.0 (and the legacy StatusList2021): encode, decode, and check.

A status list is a GZIP-compressed bitstring, multibase base64url ('u') encoded, in a signed
BitstringStatusListCredential. Entry i with statusSize s occupies bits i*s .. i*s+s-1, bit 0
being the left-most bit of the first byte (§4 Bitstring Encoding). `status_list_checker` makes
the `status_checker` that verify_credential takes: it fetches the list through a callback,
verifies the list credential itself, and reads the entry.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cachetools import LRUCache

from .errors import VerifierError
from .key_resolution import DocumentSource
from .report import Check, Status

MIN_ENTRIES = 131_072  # §5: at least 16 KB of bits, so a list says nothing about any one credential
MAX_DECODED = 16 * 1024 * 1024  # a larger list is refused (a GZIP bomb is not a status list)
ENTRY_TYPES = ("BitstringStatusListEntry", "StatusList2021Entry")
LIST_TYPES = ("BitstringStatusListCredential", "StatusList2021Credential")
REVOCATION_LIST_TYPE = "1EdTechRevocationList"  # 1EdTech Revocation List Status Method 1.0 (vcrl v1p0)

Fetch = Callable[[str], "dict[str, Any] | None"]


class StatusListError(ValueError):
    """The status list or the entry is malformed; the message says how."""


@dataclass(frozen=True)
class EntryStatus:
    purpose: str
    value: int
    message: str | None  # the statusMessage for this value, when the entry publishes one


def encode_list(bits: bytes) -> str:
    """encodedList: 'u' + base64url without padding of the GZIP-compressed bits (§4.1)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as fh:  # mtime 0: same bits, same text
        fh.write(bits)
    return "u" + base64.urlsafe_b64encode(buffer.getvalue()).rstrip(b"=").decode("ascii")


def decode_list(encoded: Any) -> bytes:
    """The bits of an encodedList (multibase 'u', or the plain base64url of StatusList2021)."""
    if not isinstance(encoded, str) or not encoded:
        raise StatusListError("The status list has no encodedList.")
    text = encoded.removeprefix("u")
    try:
        compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        inflater = zlib.decompressobj(wbits=31)
        bits = inflater.decompress(compressed, MAX_DECODED + 1)
    except (ValueError, zlib.error) as exc:
        raise StatusListError(f"The status list's encodedList cannot be decoded ({exc}).") from None
    if len(bits) > MAX_DECODED or inflater.unconsumed_tail:
        raise StatusListError("The status list is larger than 16 MB once decompressed.")
    if not inflater.eof:  # a cut-off stream would read as a shorter list
        raise StatusListError("The status list's encodedList is incomplete (the GZIP stream is cut off).")
    return bits


def read_status(bits: bytes, index: int, size: int = 1) -> int:
    """The value of entry `index` (statusSize `size` bits, most significant first)."""
    start = index * size
    if index < 0 or start + size > len(bits) * 8:
        raise StatusListError(f"The status list has no entry {index}.")
    value = 0
    for bit in range(start, start + size):
        value = (value << 1) | ((bits[bit // 8] >> (7 - bit % 8)) & 1)
    return value


def write_status(bits: bytearray, index: int, value: int, size: int = 1) -> None:
    """Set entry `index` to `value` in place."""
    start = index * size
    if index < 0 or start + size > len(bits) * 8 or not 0 <= value < (1 << size):
        raise StatusListError(f"Entry {index} value {value} does not fit the list.")
    for offset in range(size):
        bit = start + offset
        mask = 1 << (7 - bit % 8)
        if (value >> (size - 1 - offset)) & 1:
            bits[bit // 8] |= mask
        else:
            bits[bit // 8] &= ~mask


def entry_status(entry: dict[str, Any], list_credential: Any) -> EntryStatus:
    """Read one credentialStatus entry from its (already verified) status list credential."""
    purpose = entry.get("statusPurpose")
    try:
        index = int(entry.get("statusListIndex"))  # a string per BSL; the 1EdTech vectors use a number
        size = int(entry.get("statusSize", 1))
    except (TypeError, ValueError):
        raise StatusListError("The status entry's statusListIndex or statusSize is not a whole number.") from None
    if size < 1 or size > 8:
        raise StatusListError(f"statusSize {size} is not supported.")
    subject = list_credential.get("credentialSubject") if isinstance(list_credential, dict) else None
    types = _types(list_credential.get("type")) if isinstance(list_credential, dict) else []
    if not isinstance(subject, dict) or not set(types) & set(LIST_TYPES):
        raise StatusListError("The statusListCredential is not a status list credential.")
    purposes = _types(subject.get("statusPurpose"))
    if purpose not in purposes:
        raise StatusListError(f"The status list is for {', '.join(map(str, purposes)) or 'no purpose'}, "
                              f"not {purpose!r}.")
    value = read_status(_decoded_bits(subject.get("encodedList")), index, size)
    return EntryStatus(purpose=str(purpose), value=value, message=_message(entry, value))


def _message(entry: dict[str, Any], value: int) -> str | None:
    for item in entry.get("statusMessage") or []:
        if isinstance(item, dict) and _hex_value(item.get("status")) == value:
            return str(item.get("message"))
    return None


def _hex_value(text: Any) -> int | None:
    try:
        return int(str(text), 16)
    except ValueError:
        return None


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def describe(status: EntryStatus) -> tuple[bool, str]:
    """(is the credential in good standing, what to tell a person)."""
    if status.purpose == "revocation":
        return (status.value == 0, "Revoked by the issuer." if status.value else "Not revoked.")
    if status.purpose == "suspension":
        return (status.value == 0, "Suspended by the issuer." if status.value else "Not suspended.")
    message = status.message or f"status {status.value:#x}"
    good = status.value == 0 or message.lower() in ("valid", "active", "ok")
    return good, f"The issuer's status: {message}."


class _Memo:
    """A locked LRU cache, bounded by count or by size (getsizeof)."""

    def __init__(self, size: int, getsizeof: Callable[[Any], int] | None = None) -> None:
        self._cache: LRUCache = LRUCache(maxsize=size, getsizeof=getsizeof)
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._lock:
            if self._cache.getsizeof(value) <= self._cache.maxsize:
                self._cache[key] = value
        return value


# Inflated lists by their encoded text, at most 32 MB in all: a batch reads thousands of entries
# from a handful of lists, and a hostile issuer's many large lists must not grow memory unbounded.
_bits_memo = _Memo(32 * 1024 * 1024, getsizeof=len)


class TrustedLists(_Memo):
    """Verdicts on status list credentials (proof and issuer), by content, for ONE key source.

    A batch checks thousands of credentials against a handful of lists; verifying a list's proof
    each time would double the cost of a check. Keep one per DocumentSource (e.g. one per batch
    worker), since the verdict depends on the keys that source gives.
    """

    def __init__(self, size: int = 256) -> None:
        super().__init__(size)


def _decoded_bits(encoded: Any) -> bytes:
    """decode_list, memoised on the encoded text (errors are not memoised: they are raised anew)."""
    if not isinstance(encoded, str):
        return decode_list(encoded)
    return _bits_memo.get(hashlib.sha256(encoded.encode()).digest(), lambda: decode_list(encoded))


def _digest(document: Any) -> bytes:
    return hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False, default=str).encode()).digest()


def status_list_checker(fetch: Fetch, *, documents: DocumentSource | None, now: datetime,
                        trusted: TrustedLists | None = None) -> Callable[[dict], Check]:
    """A status_checker for verify_credential: every entry is read from its fetched, verified list.

    `trusted` remembers lists already verified with these `documents` (see TrustedLists)."""
    from .verify import verify_credential  # the list credential is verified like any credential

    def check(document: dict[str, Any]) -> Check:
        entries = [e for e in _types(document.get("credentialStatus")) if isinstance(e, dict)]
        said: list[str] = []
        for entry in entries:
            if REVOCATION_LIST_TYPE in _types(entry.get("type")):
                listed_check = revocation_list_check(entry, document, fetch)
                if listed_check.status is not Status.PASSED:
                    return listed_check
                said.append(listed_check.message)
                continue
            if not set(_types(entry.get("type"))) & set(ENTRY_TYPES):
                return Check("status", Status.WARNING, f"Status unknown: the status method "
                             f"{entry.get('type')!r} is not supported, so revocation cannot be ruled out.")
            url = entry.get("statusListCredential")
            try:
                listed = fetch(url) if isinstance(url, str) else None
            except VerifierError as exc:  # e.g. a FetchError: say why, never pass
                return Check("status", Status.WARNING, f"Status unknown: the status list {url} could not be "
                             f"fetched ({exc.message}), so revocation cannot be ruled out.")
            if listed is None:
                return Check("status", Status.WARNING, f"Status unknown: the status list {url} could not be "
                             "fetched, so revocation cannot be ruled out.")
            problem = _list_problem(listed, document, documents, now, verify_credential, trusted)
            if problem:
                return Check("status", Status.WARNING, f"Status unknown: {problem}")
            try:
                good, message = describe(entry_status(entry, listed))
            except StatusListError as exc:
                return Check("status", Status.WARNING, f"Status unknown: {exc}")
            if not good:
                return Check("status", Status.FAILED, message)
            said.append(message)
        return Check("status", Status.PASSED, " ".join(said) or "Not revoked.")

    return check


def _list_problem(listed: Any, document: dict, documents: DocumentSource | None, now: datetime, verify,
                  trusted: TrustedLists | None) -> str | None:
    """Why the fetched list cannot be trusted, or None: its own proof, dates, and issuer.

    The proof verdict depends only on the list's content and the key documents, so `trusted`
    (kept for one documents source) may remember it; the dates are checked against `now` every time.
    """
    from .checks import check_validity

    def proof_problem() -> str | None:
        report = verify(listed, now=now, documents=documents)
        for check_id in ("parse", "proof", "issuer"):
            c = report.check(check_id)
            if c is not None and not c.ok:
                return f"the status list credential failed its {check_id} check ({c.message})"
        return None

    if not isinstance(listed, dict):
        return proof_problem() or "the status list is not a JSON object."
    problem = trusted.get(_digest(listed), proof_problem) if trusted is not None else proof_problem()
    if problem:
        return problem
    validity, _ = check_validity(listed, now)
    if not validity.ok:
        return f"the status list credential failed its validity check ({validity.message})"
    issuer = _issuer_id(document)
    if issuer and _issuer_id(listed) != issuer:
        return "the status list was issued by someone other than the credential's issuer."
    # Naming the issuer is not enough: a list signed with anyone's did:key may claim any issuer.
    methods = [p.get("verificationMethod") for p in _types(listed.get("proof")) if isinstance(p, dict)]
    if issuer and any(not isinstance(m, str) or m.split("#", 1)[0] != issuer for m in methods):
        return "the status list was not signed with a key of the credential's issuer."
    return None


def _issuer_id(document: Any) -> str | None:
    issuer = document.get("issuer") if isinstance(document, dict) else None
    return issuer.get("id") if isinstance(issuer, dict) else issuer if isinstance(issuer, str) else None


def revocation_list_check(entry: dict[str, Any], document: dict[str, Any], fetch: Fetch) -> Check:
    """1EdTechRevocationList: the issuer's RevocationList at entry.id names revoked credential ids.

    The list is not signed (it is trusted as served by the issuer over https), so it must at
    least name the credential's issuer; anything else gives "status unknown", never a pass.
    """
    url = entry.get("id")
    try:
        listed = fetch(url) if isinstance(url, str) else None
    except VerifierError as exc:
        return Check("status", Status.WARNING, f"Status unknown: the revocation list {url} could not be "
                     f"fetched ({exc.message}), so revocation cannot be ruled out.")
    if listed is None:
        return Check("status", Status.WARNING, f"Status unknown: the revocation list {url} could not be fetched, "
                     "so revocation cannot be ruled out.")
    revoked = listed.get("revokedCredentials") if isinstance(listed, dict) else None
    if not isinstance(revoked, list):
        return Check("status", Status.WARNING, f"Status unknown: {url} is not a revocation list.")
    issuer = _issuer_id(document)
    if issuer and _issuer_id(listed) != issuer:
        return Check("status", Status.WARNING, "Status unknown: the revocation list was published by someone "
                     "other than the credential's issuer.")
    for item in revoked:
        item_id = item.get("id") if isinstance(item, dict) else item
        if item_id is not None and item_id == document.get("id"):
            reason = item.get("revocationReason") if isinstance(item, dict) else None
            return Check("status", Status.FAILED, "Revoked by the issuer" + (f": {reason}." if reason else "."))
    return Check("status", Status.PASSED, "Not revoked (checked against the issuer's revocation list).")
