"""Credential status every verifier can see: Bitstring Status Lists, revoke / suspend / reinstate.

Open Badges 3.0 allows one `credentialStatus` per credential ([0..1]; the official JSON Schema
makes it a single object), so each credential carries ONE BitstringStatusListEntry with
statusPurpose "message" and statusSize 2, whose statusMessage names the values: 0 valid,
1 revoked, 2 suspended (3 revoked too). Revocation is final; suspension can be lifted.
Indices are drawn at random from lists of 131,072 entries and never reused.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from verifier import add_proof
from verifier.status import MIN_ENTRIES, write_status

from ..audit import record_event
from ..errors import Conflict, InvalidInput, Unavailable, UnknownAchievementError
from ..identity import IssuerIdentity
from ..mail import queue_mail
from ..models import Credential, StatusEntry, StatusList

PURPOSE, STATUS_SIZE, ENTRIES = "message", 2, MIN_ENTRIES
VALUES = {"active": 0, "revoked": 1, "suspended": 2}
STATUS_MESSAGES = [{"status": "0x0", "message": "valid"}, {"status": "0x1", "message": "revoked"},
                   {"status": "0x2", "message": "suspended"}, {"status": "0x3", "message": "revoked"}]
LIST_VALIDITY = timedelta(days=1)  # verifiers may cache a list this long; it is re-signed before
CACHE_SECONDS = 300
_RANDOM = secrets.SystemRandom()
_NEW_LIST_LOCK = 0x6D6963726F637265  # a PostgreSQL advisory lock key of our own ("microcre")


class StatusChangeRefused(Conflict):
    """The credential's status cannot change so (revocation is final; a suspension needs an active one)."""

    code = "status_change_refused"


class StatusChangeInvalid(InvalidInput, StatusChangeRefused):
    """The change asked for cannot be made as given (no reason, an unknown status)."""


def status_url(base_url: str, list_id: str) -> str:
    return f"{base_url.rstrip('/')}/status/{list_id}"


def allocate_entry(session: Session, *, credential_id: str, base_url: str) -> dict[str, Any]:
    """A fresh random index for a new credential, and the credentialStatus entry that points at it."""
    status_list = _open_list(session)
    for _attempt in range(64):
        index = _RANDOM.randrange(status_list.entries)
        try:
            with session.begin_nested():  # a taken index (or a concurrent issuer's) just rolls this back
                session.add(StatusEntry(status_list_id=status_list.id, list_index=index, credential_id=credential_id))
        except IntegrityError:
            continue
        status_list.allocated += 1
        url = status_url(base_url, status_list.list_id)
        return {"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": PURPOSE,
                "statusListIndex": str(index), "statusListCredential": url, "statusSize": STATUS_SIZE,
                "statusMessage": [dict(m) for m in STATUS_MESSAGES]}
    raise Unavailable("No free status list index could be found; try again.", code="status_allocation_failed")


def _open_list(session: Session) -> StatusList:
    """A list at most half full (random draws then rarely collide); a new one when none is."""
    open_list = (select(StatusList).where(StatusList.allocated < StatusList.entries // 2)
                 .order_by(StatusList.id).limit(1).with_for_update())
    found = session.scalar(open_list)
    if found is None and session.get_bind().dialect.name == "postgresql":
        # Concurrent issuers would each start a list, leaving lists with one credential each (a
        # verifier fetching one tells us which credential it checks): one starts it, the others
        # wait and use it. Rare: once per 65,536 awards. (SQLite transactions are serial already.)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _NEW_LIST_LOCK})
        found = session.scalar(open_list)
    if found is not None:
        return found
    created = StatusList(list_id=secrets.token_urlsafe(12), purpose=PURPOSE, status_size=STATUS_SIZE,
                         entries=ENTRIES, allocated=0, bits=bytes(ENTRIES * STATUS_SIZE // 8), revision=1)
    session.add(created)
    session.flush()
    return created


def change_status(session: Session, credential: Credential, new_status: str, *, reason: str, actor: str,
                  identity: IssuerIdentity, now: datetime | None = None, notify: bool = True) -> None:
    """Revoke, suspend or reinstate ('active'), and re-sign the list at once (in this transaction),
    so the published list and every offline check see the change immediately."""
    now = now or datetime.now(UTC)
    reason = (reason or "").strip()
    if not reason:
        raise StatusChangeInvalid("Give a reason: it is kept in the audit log and sent to the teacher.")
    if len(reason) > 1000:
        raise StatusChangeInvalid("The reason is longer than 1,000 characters.")
    # Read the status again under a row lock: two administrators at once must not both pass the check
    # on a stale copy (a suspension written over a revocation would undo a final decision).
    session.refresh(credential, with_for_update=True)
    _allowed(credential.status, new_status)
    entry = session.scalar(select(StatusEntry).where(StatusEntry.credential_id == credential.credential_id))
    if entry is None:
        raise StatusChangeRefused("This credential was issued without a status entry, so its status cannot be "
                                  "published; re-issue it instead.")
    status_list = session.scalar(select(StatusList).where(StatusList.id == entry.status_list_id).with_for_update())
    bits = bytearray(status_list.bits)
    write_status(bits, entry.list_index, VALUES[new_status], status_list.status_size)
    status_list.bits, status_list.revision = bytes(bits), status_list.revision + 1
    list_credential(session, status_list.list_id, identity, now)
    before = credential.status
    credential.status, credential.status_reason, credential.status_changed_at = new_status, reason, now
    verb = {"revoked": "revoked", "suspended": "suspended", "active": "reinstated"}[new_status]
    record_event(session, actor=actor, action=f"credential.{verb}", subject=credential.credential_id,
                 detail={"from": before, "to": new_status, "reason": reason})
    if notify:
        _notify(session, credential, verb, reason)


def _allowed(current: str, new: str) -> None:
    if new not in VALUES:
        raise StatusChangeInvalid(f"Unknown status {new!r}.")
    if current == "revoked":
        raise StatusChangeRefused("This credential is revoked, and revocation is final.")
    if new == current:
        raise StatusChangeRefused(f"This credential is already {'active' if new == 'active' else new}.")
    if new == "active" and current != "suspended":
        raise StatusChangeRefused("Only a suspended credential can be reinstated.")


def _notify(session: Session, credential: Credential, verb: str, reason: str) -> None:
    title = json.loads(credential.document)["credentialSubject"]["achievement"]["name"]
    queue_mail(session, to=credential.recipient_email, kind="credential_status",
               subject=f"Your credential “{title}” was {verb}",
               body=f"Your micro-credential “{title}” ({credential.credential_id}) was {verb}.\n\nReason: {reason}\n")


def find_credential(session: Session, identifier: str) -> Credential:
    """A credential by its id (urn:uuid:...) or its public id; UnknownAchievementError (404) otherwise."""
    row = session.scalar(select(Credential).where((Credential.credential_id == identifier)
                                                  | (Credential.public_id == identifier)))
    if row is None:
        raise UnknownAchievementError(f"There is no credential {identifier!r}.")
    return row


def list_credential(session: Session, list_id: str, identity: IssuerIdentity,
                    now: datetime | None = None) -> tuple[str, str]:
    """The signed BitstringStatusListCredential (text, ETag), re-signed when a bit changed or it
    nears the end of its validity. UnknownAchievementError (404) for an unknown list."""
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    status_list = session.scalar(select(StatusList).where(StatusList.list_id == list_id))
    if status_list is None:
        raise UnknownAchievementError(f"There is no status list {list_id!r}.")
    fresh = (status_list.signed_document and status_list.signed_revision == status_list.revision
             and status_list.signed_until and _aware(status_list.signed_until) - now > LIST_VALIDITY / 2)
    if not fresh:
        document = _sign_list(status_list, identity, now)
        status_list.signed_document = json.dumps(document, indent=2)
        status_list.signed_revision, status_list.signed_until = status_list.revision, now + LIST_VALIDITY
    text = status_list.signed_document
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sign_list(status_list: StatusList, identity: IssuerIdentity, now: datetime) -> dict[str, Any]:
    from verifier.status_model import status_list_credential  # a "message" list carries statusSize/statusMessages

    url = status_url(identity.settings.public_url, status_list.list_id)
    unsigned = status_list_credential(url, issuer=identity.did, purpose=status_list.purpose, bits=status_list.bits,
                                      size=status_list.status_size, valid_from=now, valid_until=now + LIST_VALIDITY,
                                      messages={int(m["status"], 16): m["message"] for m in STATUS_MESSAGES})
    signer, method = identity.signer()
    return add_proof(unsigned, verification_method=method, sign=signer.sign, created=now)


def our_status_lists(session: Session, identity: IssuerIdentity, *, can_sign: bool = True):
    """A fetch callback serving this issuer's own status lists from the database (no HTTP).

    Without the signing key (`can_sign` False) only a list signed since its last change is
    served; an out-of-date one is None, so the verdict says "status unknown", never a stale "valid".
    """
    prefix = status_url(identity.settings.public_url, "")

    def fetch(url: str) -> dict[str, Any] | None:
        if not isinstance(url, str) or not url.startswith(prefix):
            return None
        list_id = url[len(prefix):]
        if can_sign:
            try:
                return json.loads(list_credential(session, list_id, identity)[0])
            except UnknownAchievementError:
                return None
        row = session.scalar(select(StatusList).where(StatusList.list_id == list_id))
        if row is None or not row.signed_document or row.signed_revision != row.revision:
            return None
        return json.loads(row.signed_document)

    return fetch


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

