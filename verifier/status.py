"""Checking a credential's status: W3C Bitstring Status List v1.0 (and the legacy StatusList2021),
and the 1EdTech Revocation List.

`status_list_checker` makes the `status_checker` that verify_credential takes: it fetches each
entry's list through a callback, verifies the list credential itself (proof, issuer binding,
dates, and that it is the credential's issuer's), and reads the entry by the spec's rules
(verifier/status_model.py, verifier/bitstring.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .bitstring import MAX_DECODED, MIN_ENTRIES, StatusListError, decode_list, encode_list, read_status, write_status
from .errors import VerifierError
from .key_resolution import DocumentSource
from .memo import Memo
from .report import Check, Status
from .status_model import ENTRY_TO_LIST, EntryStatus, describe, entry_status

__all__ = ["MAX_DECODED", "MIN_ENTRIES", "EntryStatus", "StatusListError", "TrustedLists", "decode_list", "describe",
           "encode_list", "entry_status", "read_status", "revocation_list_check", "status_list_checker", "write_status"]

ENTRY_TYPES = tuple(ENTRY_TO_LIST)
REVOCATION_LIST_TYPE = "1EdTechRevocationList"  # 1EdTech Revocation List Status Method 1.0 (vcrl v1p0)

Fetch = Callable[[str], "dict[str, Any] | None"]


def _types(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


class TrustedLists(Memo):
    """Verdicts on status list credentials (proof and issuer), by content, for ONE key source.

    A batch checks thousands of credentials against a handful of lists; verifying a list's proof
    each time would double the cost of a check. Keep one per DocumentSource (e.g. one per batch
    worker), since the verdict depends on the keys that source gives.
    """

    def __init__(self, size: int = 256) -> None:
        super().__init__(size)


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
    # Naming the issuer is not enough: the list's own issuer check (issuer_binding) passed only if
    # its signing key is the issuer's own, so a list signed with anyone's did:key never gets here.
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
