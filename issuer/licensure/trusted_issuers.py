"""The licensure office's registry of recognised issuers: list, add, edit, end; our own issuer seeded.

A credential from an issuer that is not in the registry (or earned outside its entry's since..until)
may verify, but counts no PDPs. Every change is audited.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from verifier.multikey import did_key
from verifier.renewal import TrustedIssuer

from ..audit import record_event
from ..config import Settings
from ..errors import Conflict, InvalidInput, NotFound
from ..identity import IssuerIdentity
from ..models import TrustedIssuerRecord


class RegistryError(InvalidInput):
    """Base of what the registry of recognised issuers refuses; raised itself for an entry that cannot be used."""

    code = "invalid_trusted_issuer"


class RegistryEntryNotFound(NotFound, RegistryError):
    code = "not_found"


class AlreadyListed(Conflict, RegistryError):
    code = "already_listed"


def our_issuer_ids(settings: Settings) -> frozenset[str]:
    """The identifiers our credentials name as issuer: our did:web, or the did:key of each usable key."""
    if not settings.keys_dir.exists():
        return frozenset()
    identity = IssuerIdentity.public(settings)
    ids = {did_key(k.public_key_multibase) for k in identity.store.list() if k.status != "revoked"}
    if settings.base_url:
        ids = {identity.did}
    return frozenset(ids)


def own_since(settings: Settings) -> date:
    return date.fromisoformat(settings.own_issuer_since)  # checked when the settings were loaded


def ensure_own_issuer(session: Session, settings: Settings) -> list[str]:
    """Add our own issuer identifiers that the registry lacks (never re-opens an ended entry)."""
    added = []
    for issuer_id in sorted(our_issuer_ids(settings)):
        if session.scalar(select(TrustedIssuerRecord).where(TrustedIssuerRecord.issuer_id == issuer_id)) is None:
            add_entry(session, issuer_id=issuer_id, name=settings.issuer_name, since=own_since(settings),
                      note="This service's own issuer (added by microcred init).", actor="system:init")
            added.append(issuer_id)
    return added


def registry(session: Session, settings: Settings) -> tuple[TrustedIssuer, ...]:
    """Every entry as the renewal report reads it; our own current identifiers are recognised
    even before `init` records them (after a did:key rotation, say), unless an entry says otherwise."""
    rows = list(session.scalars(select(TrustedIssuerRecord).order_by(TrustedIssuerRecord.name)))
    entries = [TrustedIssuer(r.issuer_id, r.name, r.since, r.until) for r in rows]
    known = {r.issuer_id for r in rows}
    entries += [TrustedIssuer(i, settings.issuer_name, own_since(settings)) for i in our_issuer_ids(settings)
                if i not in known]
    return tuple(entries)


def list_entries(session: Session) -> list[TrustedIssuerRecord]:
    return list(session.scalars(select(TrustedIssuerRecord).order_by(TrustedIssuerRecord.name,
                                                                     TrustedIssuerRecord.issuer_id)))


def get_entry(session: Session, entry_id: int) -> TrustedIssuerRecord:
    row = session.get(TrustedIssuerRecord, entry_id)
    if row is None:
        raise RegistryEntryNotFound("No such registry entry.")
    return row


def _validate(issuer_id: str, name: str, since: date, until: date | None) -> tuple[str, str]:
    issuer_id, name = (issuer_id or "").strip(), (name or "").strip()
    if not issuer_id or ":" not in issuer_id or len(issuer_id) > 500 or any(c.isspace() for c in issuer_id):
        raise RegistryError("The issuer identifier must be a DID or URL (for example did:web:badges.example.org).")
    if not name or len(name) > 200:
        raise RegistryError("The issuer's name is required (at most 200 characters).")
    if until is not None and until < since:
        raise RegistryError(f"The end date {until} is before the start date {since}.")
    return issuer_id, name


def add_entry(session: Session, *, issuer_id: str, name: str, since: date, until: date | None = None,
              note: str = "", actor: str) -> TrustedIssuerRecord:
    """Recognise an issuer; RegistryError (409) when it is already listed."""
    issuer_id, name = _validate(issuer_id, name, since, until)
    if session.scalar(select(TrustedIssuerRecord).where(TrustedIssuerRecord.issuer_id == issuer_id)) is not None:
        raise AlreadyListed(f"{issuer_id} is already in the registry: edit its entry instead.")
    row = TrustedIssuerRecord(issuer_id=issuer_id, name=name, since=since, until=until, note=(note or "").strip())
    session.add(row)
    session.flush()
    record_event(session, actor=actor, action="trusted_issuer.added", subject=issuer_id,
                 detail={"name": name, "since": since.isoformat(), "until": until.isoformat() if until else None})
    return row


def edit_entry(session: Session, entry_id: int, *, name: str, since: date, until: date | None, note: str,
               actor: str) -> TrustedIssuerRecord:
    row = get_entry(session, entry_id)
    _, name = _validate(row.issuer_id, name, since, until)
    before = {"name": row.name, "since": row.since.isoformat(), "until": row.until.isoformat() if row.until else None}
    row.name, row.since, row.until, row.note = name, since, until, (note or "").strip()
    row.updated_at = datetime.now(UTC)
    record_event(session, actor=actor, action="trusted_issuer.edited", subject=row.issuer_id,
                 detail={"before": before, "name": name, "since": since.isoformat(),
                         "until": until.isoformat() if until else None})
    return row


def end_entry(session: Session, issuer_id: str, *, until: date, actor: str, reason: str = "") -> TrustedIssuerRecord:
    """Stop recognising an issuer after `until` (credentials earned until then still count)."""
    row = session.scalar(select(TrustedIssuerRecord).where(TrustedIssuerRecord.issuer_id == issuer_id.strip()))
    if row is None:
        raise RegistryEntryNotFound(f"{issuer_id} is not in the registry.")
    if until < row.since:
        raise RegistryError(f"The end date {until} is before the entry's start date {row.since}.")
    row.until = until
    row.updated_at = datetime.now(UTC)
    record_event(session, actor=actor, action="trusted_issuer.ended", subject=row.issuer_id,
                 detail={"until": until.isoformat(), "reason": reason})
    return row
