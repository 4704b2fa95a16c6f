"""Building, signing and storing OpenBadgeCredentials: one transaction per award.

build_credential makes a plain dict; the schema check runs before signing; the signed
credential is verified once and stored exactly as signed (the JSON text, never rebuilt).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from badge_classes import BadgeClass, PdpPolicy, PdpValue, to_achievement
from verifier import add_proof, verify_credential
from verifier.document_loader import OB_V3, VC_V2
from verifier.schema import ACHIEVEMENT_CREDENTIAL_SCHEMA_ID, schema_problems

from ..audit import record_event
from ..errors import CredentialInvalidError, InvalidRecipientError
from ..identity import IssuerIdentity
from ..models import Credential
from .status_lists import allocate_entry, list_credential

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def hashed_identifier(email: str, salt: str) -> dict[str, Any]:
    """OB 3.0 IdentityObject: 'sha256$' + hex SHA-256 of the normalised email followed by the salt."""
    digest = hashlib.sha256((normalise_email(email) + salt).encode("utf-8")).hexdigest()
    return {"type": "IdentityObject", "identityType": "emailAddress", "hashed": True,
            "identityHash": f"sha256${digest}", "salt": salt}


def normalise_email(email: str) -> str:
    """Trimmed and lower-cased, so the licensure office can match what the teacher types."""
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise InvalidRecipientError(f"{email!r} is not a valid email address.")
    return email


def build_credential(
    badge: BadgeClass,
    *,
    identity: IssuerIdentity,
    recipient_email: str,
    recipient_name: str,
    issued_at: datetime,
    credential_id: str,
    pdp: PdpValue | None = None,
    valid_until: datetime | None = None,
    evidence: list[dict[str, Any]] | None = None,
    results: list[dict[str, Any]] | None = None,
    credential_status: dict[str, Any] | None = None,
    replaces: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The unsigned OpenBadgeCredential (VC Data Model 2.0) for one award.

    `pdp` is the PDP value in force when earned: the credential carries it (creditsAvailable on the
    embedded Achievement, creditsEarned on the subject) so later policy changes never rewrite it.
    `replaces` is (id, signed text) of the credential this one supersedes: it becomes a VC 2.0
    relatedResource with the SHA-256 of that text, so anyone can tell the two apart and match them.
    """
    name = (recipient_name or "").strip()
    if not name or len(name) > 200:
        raise InvalidRecipientError("The recipient's name is required (at most 200 characters).")
    profile = identity.profile()
    credential: dict[str, Any] = {
        "@context": [VC_V2, OB_V3],
        "id": credential_id,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{badge.title}: {name}",
        "description": badge.description,
        "issuer": profile,
        "validFrom": _iso(issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "name": name,
            "identifier": [hashed_identifier(recipient_email, secrets.token_hex(16))],
            "achievement": to_achievement(badge, base_url=identity.settings.public_url, pdp=pdp, creator=profile),
        },
        "credentialSchema": [{"id": ACHIEVEMENT_CREDENTIAL_SCHEMA_ID, "type": "JsonSchema"}],
    }
    if pdp is not None:
        credential["credentialSubject"]["creditsEarned"] = float(pdp.value)
    if results:
        credential["credentialSubject"]["result"] = results
    if evidence:
        credential["evidence"] = evidence
    if credential_status:
        credential["credentialStatus"] = credential_status
    if valid_until is not None:
        credential["validUntil"] = _iso(valid_until)
    if replaces is not None:
        old_id, old_text = replaces
        credential["description"] = f"{badge.description} This credential supersedes {old_id}."
        credential["relatedResource"] = [{"id": old_id, "digestSRI": document_digest_sri(old_text)}]
    return credential


def document_digest_sri(text: str) -> str:
    """VC 2.0 digestSRI of a stored credential: 'sha256-' + base64 of the SHA-256 of its UTF-8 text."""
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def sign_credential(credential: dict[str, Any], identity: IssuerIdentity, *, now: datetime) -> tuple[dict[str, Any], str]:
    """Schema-check, sign with the active key, verify once; returns (signed, key id).

    Raises CredentialInvalidError: an invalid document is never signed or stored.
    """
    problems = schema_problems(credential)
    if problems:
        raise CredentialInvalidError("The credential does not match the Open Badges 3.0 schema: "
                                     + "; ".join(p.detail for p in problems[:3]))
    signer, method = identity.signer()
    signed = add_proof(credential, verification_method=method, sign=signer.sign, created=now)
    report = verify_credential(signed, now=now, documents=identity.documents)
    failed = [c for c in report.checks if not c.ok]
    if failed:
        raise CredentialInvalidError(f"The signed credential did not verify: {failed[0].message}")
    return signed, signer.key_id


def issue_credential(
    session: Session,
    badge: BadgeClass,
    *,
    identity: IssuerIdentity,
    policy: PdpPolicy,
    recipient_email: str,
    recipient_name: str,
    actor: str,
    now: datetime | None = None,
    evidence: list[dict[str, Any]] | None = None,
    results: list[dict[str, Any]] | None = None,
    submission_id: int | None = None,
    recipient_user_id: int | None = None,
    valid_until: datetime | None = None,
    replaces: Credential | None = None,
    valid_from: datetime | None = None,
) -> Credential:
    """Build, sign, verify and store one credential, with its audit event, in the caller's transaction.

    With `submission_id`, the unique column makes a second credential for the same approval fail;
    with `replaces`, the unique replaces_id makes a second replacement of one credential fail.
    `valid_from` (default: now) lets a re-issue keep the date the original was earned.
    """
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    email = normalise_email(recipient_email)
    credential_id = f"urn:uuid:{uuid.uuid4()}"
    pdp = policy.value_on(badge.slug, badge.pathway, now)
    status = allocate_entry(session, credential_id=credential_id, base_url=identity.settings.public_url)
    unsigned = build_credential(badge, identity=identity, recipient_email=email, recipient_name=recipient_name,
                                issued_at=valid_from or now, credential_id=credential_id, pdp=pdp, evidence=evidence,
                                results=results, credential_status=status, valid_until=valid_until,
                                replaces=(replaces.credential_id, replaces.document) if replaces is not None else None)
    signed, key_id = sign_credential(unsigned, identity, now=now)
    # A list signed when it is new (or its signature is old), so offline checks find it at once.
    list_credential(session, status["statusListCredential"].rsplit("/", 1)[1], identity, now)
    row = Credential(
        credential_id=credential_id,
        public_id=new_public_id(),
        achievement_slug=badge.slug,
        achievement_version=badge.version,
        recipient_email=email,
        recipient_name=recipient_name.strip(),
        issuer_did=identity.did,
        key_id=key_id,
        issued_at=now,
        pdp_value=pdp.value if pdp else None,
        submission_id=submission_id,
        recipient_user_id=recipient_user_id,
        replaces_id=replaces.credential_id if replaces is not None else None,
        valid_until=valid_until.astimezone(UTC).replace(microsecond=0) if valid_until else None,
        document=json.dumps(signed, ensure_ascii=False, indent=2),
    )
    session.add(row)
    session.flush()
    record_event(session, actor=actor, action="credential.issued", subject=credential_id,
                 detail={"achievement": badge.slug, "version": badge.version, "key_id": row.key_id,
                         "pdp": pdp.value if pdp else None,
                         **({"replaces": replaces.credential_id} if replaces is not None else {})})
    return row


def new_public_id() -> str:
    """An unguessable share id (144 random bits). Never starting with '-': it is also typed on the
    command line (`microcred revoke ID`), where a leading dash would read as an option."""
    while True:
        value = secrets.token_urlsafe(18)
        if not value.startswith("-"):
            return value


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
