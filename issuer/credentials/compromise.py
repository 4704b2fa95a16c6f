"""A signing key compromise: what the key signed, status lists re-signed, every credential re-issued.

The procedure is described step by step in docs/key-compromise.md. Each credential is re-issued in
its own transaction, so one failure leaves the others done, and a rerun skips what was replaced.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from badge_classes import PdpPolicy
from keys import KeyInfo, KeyStoreError

from ..db import Database
from ..errors import IssuerError
from ..identity import IssuerIdentity
from ..models import Credential, StatusList
from .reissue import ReissueRefused, reissue
from .status_lists import list_credential


@dataclass(frozen=True)
class Signed:
    """A credential the key signed, as the command lists it."""

    row_id: int
    credential_id: str
    recipient: str
    badge: str  # slug and version
    status: str


@dataclass(frozen=True)
class Outcome:
    credential: Signed
    action: str  # reissued | skipped | failed
    detail: str  # the new credential's id, or why not


def signed_by(session: Session, key_id: str) -> list[Signed]:
    """Every credential the key signed, oldest first."""
    rows = session.scalars(select(Credential).where(Credential.key_id == key_id)
                           .order_by(Credential.issued_at, Credential.id))
    return [Signed(c.id, c.credential_id, c.recipient_name, f"{c.achievement_slug} v{c.achievement_version}", c.status)
            for c in rows]


def resign_status_lists(session: Session, identity: IssuerIdentity, revoked: KeyInfo,
                        now: datetime | None = None) -> int:
    """Sign again, with the active key, every status list the revoked key signed last: such a list no
    longer verifies, and verifiers would see "status unknown" for every credential on it."""
    names = {revoked.key_id, revoked.public_key_multibase}  # the method's fragment: did:web, did:key
    lists = [sl for sl in session.scalars(select(StatusList).where(StatusList.signed_document.is_not(None)))
             if _signed_by(sl.signed_document, names)]
    for status_list in lists:
        status_list.signed_revision = None  # not fresh: list_credential signs it now
        list_credential(session, status_list.list_id, identity, now)
    return len(lists)


def _signed_by(document: str, names: set[str]) -> bool:
    proofs = json.loads(document).get("proof")
    for proof in proofs if isinstance(proofs, list) else [proofs]:
        method = proof.get("verificationMethod") if isinstance(proof, dict) else None
        if isinstance(method, str) and method.rsplit("#", 1)[-1] in names:
            return True
    return False


def reissue_signed_by(database: Database, key_id: str, *, reason: str, actor: str, identity: IssuerIdentity,
                      policy: PdpPolicy, now: datetime | None = None) -> Iterator[Outcome]:
    """Re-issue, under the active key, every credential `key_id` signed that is still active; the old
    ones are revoked. Yields one outcome per credential the key signed (one transaction each)."""
    with database.transaction() as session:
        signed = signed_by(session, key_id)
    for item in signed:
        try:
            with database.transaction() as session:
                new = reissue(session, session.get(Credential, item.row_id), reason=reason, old_status="revoked",
                              actor=actor, identity=identity, policy=policy, now=now)  # default: signed now
                outcome = Outcome(item, "reissued", new.credential_id)
        except ReissueRefused as exc:
            outcome = Outcome(item, "skipped", exc.message)
        except (IssuerError, KeyStoreError) as exc:
            outcome = Outcome(item, "failed", exc.message)
        except SQLAlchemyError as exc:  # this credential only: report it, go on with the others
            outcome = Outcome(item, "failed", str(getattr(exc, "orig", exc)).splitlines()[0])
        yield outcome
