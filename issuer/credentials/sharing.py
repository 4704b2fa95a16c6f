"""Sharing an earned credential: visibility, share-link rotation, baked images, QR codes, LinkedIn.

The public page lives at an unguessable /credentials/<public_id>; rotating the id revokes the old
link. Nothing here ever exposes the teacher's email (credentials carry only its salted hash).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import qrcode
import qrcode.image.svg
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from badge_classes import BadgeClass
from badge_classes.images import badge_png, badge_svg
from verifier.baking import bake_png, bake_svg
from verifier.timeutil import parse_datetime

from ..audit import record_event
from ..catalog.versions import badge_version, version_image
from ..errors import InvalidInput, UnknownAchievementError
from ..models import Credential, User
from .issuance import new_public_id

LINKEDIN_ADD = "https://www.linkedin.com/profile/add"


class SharingError(InvalidInput):
    code = "sharing_invalid"


@dataclass(frozen=True)
class LinkedInFields:
    """What LinkedIn's "Add to profile" form is prefilled with (also shown for copying)."""

    name: str
    organization: str
    organization_id: str | None
    issue_year: int
    issue_month: int
    expiration_year: int | None
    expiration_month: int | None
    cert_url: str
    cert_id: str

    def url(self) -> str:
        params: dict[str, Any] = {"startTask": "CERTIFICATION_NAME", "name": self.name}
        if self.organization_id:
            params["organizationId"] = self.organization_id
        else:
            params["organizationName"] = self.organization
        params.update(issueYear=self.issue_year, issueMonth=self.issue_month)
        if self.expiration_year:
            params.update(expirationYear=self.expiration_year, expirationMonth=self.expiration_month)
        params.update(certUrl=self.cert_url, certId=self.cert_id)
        return f"{LINKEDIN_ADD}?{urlencode(params)}"


def public_url(base_url: str, row: Credential) -> str:
    return f"{base_url.rstrip('/')}/credentials/{row.public_id}"


def linkedin_fields(row: Credential, document: dict[str, Any], *, base_url: str,
                    organization_id: str | None = None) -> LinkedInFields:
    issued = parse_datetime(document.get("validFrom")) or row.issued_at
    until = parse_datetime(document.get("validUntil")) if document.get("validUntil") else None
    issuer = document.get("issuer") if isinstance(document.get("issuer"), dict) else {}
    return LinkedInFields(
        name=document["credentialSubject"]["achievement"]["name"], organization=issuer.get("name", ""),
        organization_id=organization_id, issue_year=issued.year, issue_month=issued.month,
        expiration_year=until.year if until else None, expiration_month=until.month if until else None,
        cert_url=public_url(base_url, row), cert_id=row.credential_id)


def display_name(row: Credential) -> str:
    """The recipient's name as the teacher chose to show it: in full, or initials."""
    if row.name_display == "initials":
        return " ".join(f"{part[0]}." for part in row.recipient_name.split() if part) or row.recipient_name
    return row.recipient_name


def qr_svg(text: str) -> str:
    """A QR code as a self-contained SVG (scalable; prints sharp)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=4)
    return image.to_string(encoding="unicode")


def qr_png(text: str, *, box_size: int = 8) -> bytes:
    code = qrcode.QRCode(box_size=box_size, border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer, format="PNG")
    return buffer.getvalue()


def badge_for(session: Session, row: Credential) -> BadgeClass:
    return badge_version(session, row.achievement_slug, row.achievement_version)


def baked_png(session: Session, row: Credential) -> bytes:
    """The badge image of the credential's version with the credential baked in (as stored)."""
    custom = version_image(session, row.achievement_slug, row.achievement_version)
    image = _as_png(custom) if custom else badge_png(badge_for(session, row), size=512)
    return bake_png(image, row.document)


def baked_svg(session: Session, row: Credential) -> str:
    return bake_svg(badge_svg(badge_for(session, row)), row.document)


def _as_png(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as img:
        buffer = io.BytesIO()
        img.convert("RGBA").save(buffer, format="PNG")
        return buffer.getvalue()


def own_credential(session: Session, teacher: User, public_id: str) -> Credential:
    """The teacher's own credential; 404 for anyone else's (existence is not revealed)."""
    row = session.scalar(select(Credential).where(Credential.public_id == public_id))
    if row is None or row.recipient_user_id != teacher.id:
        raise UnknownAchievementError("There is no such credential.")
    return row


def update_sharing(session: Session, row: Credential, *, actor: User, visibility: str, name_display: str,
                   indexable: bool, shown_evidence: list[str]) -> None:
    """The teacher's sharing choices for one credential."""
    if visibility not in ("public", "private"):
        raise SharingError("Choose public or private.")
    if name_display not in ("full", "initials"):
        raise SharingError("Choose to show your full name or your initials.")
    known = {e.get("id") for e in json.loads(row.document).get("evidence", [])}
    unknown = [e for e in shown_evidence if e not in known]
    if unknown:
        raise SharingError("Some chosen evidence is not part of this credential.")
    before = {"visibility": row.visibility, "name_display": row.name_display, "indexable": row.indexable}
    row.visibility, row.name_display, row.indexable = visibility, name_display, bool(indexable)
    row.shown_evidence = list(dict.fromkeys(shown_evidence))
    record_event(session, actor=actor.email, action="credential.sharing_changed", subject=row.credential_id,
                 detail={"from": before, "to": {"visibility": visibility, "name_display": name_display,
                                                "indexable": bool(indexable)}})


def rotate_link(session: Session, row: Credential, *, actor: User) -> str:
    """A new public id: the old share link stops working at once. Returns the new id."""
    old, row.public_id = row.public_id, new_public_id()
    record_event(session, actor=actor.email, action="credential.link_rotated", subject=row.credential_id,
                 detail={"from": old[:4] + "…", "to": row.public_id[:4] + "…"})
    return row.public_id


def backpack(session: Session, teacher: User) -> list[Credential]:
    """Every credential the teacher earned, newest first."""
    return list(session.scalars(select(Credential).where(Credential.recipient_user_id == teacher.id)
                                .order_by(Credential.issued_at.desc(), Credential.id.desc())))


def zip_of(rows: list[Credential]) -> bytes:
    """All credentials as JSON files (exactly as signed) in one zip."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for row in rows:
            stamp = row.issued_at.strftime("%Y-%m-%d")
            name = f"{stamp}-{row.achievement_slug}-{row.credential_id.rsplit(':', 1)[-1][:8]}.json"
            archive.writestr(zipfile.ZipInfo(name, date_time=_zip_time(row.issued_at)), row.document)
    return buffer.getvalue()


def _zip_time(moment: datetime) -> tuple[int, int, int, int, int, int]:
    return (max(moment.year, 1980), moment.month, moment.day, moment.hour, moment.minute, moment.second)
