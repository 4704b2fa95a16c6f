"""People, credentials, the catalogue's versions, the audit log.

Credentials are stored exactly as signed, never rebuilt from columns.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, utcnow


class User(Base):
    """A person; roles are a comma-free list (teacher, assessor, coordinator, licensure, admin)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Sessions carry the epoch they were made in; signing out bumps it, so every copy of an
    # old session cookie stops working (the cookie itself cannot be recalled).
    session_epoch: Mapped[int] = mapped_column(default=0)
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id"), index=True)  # home district
    active: Mapped[bool] = mapped_column(default=True)  # a deactivated account cannot sign in
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def has_role(self, *roles: str) -> bool:
        return bool(set(roles) & set(self.roles or []))


class Credential(Base):
    """An issued OpenBadgeCredential. `document` holds the signed JSON text byte for byte."""

    __tablename__ = "credentials"
    __table_args__ = (UniqueConstraint("credential_id"), UniqueConstraint("public_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_id: Mapped[str] = mapped_column(String(200))  # the VC's id (urn:uuid:...)
    public_id: Mapped[str] = mapped_column(String(64))  # unguessable id for share links
    achievement_slug: Mapped[str] = mapped_column(String(120), index=True)
    achievement_version: Mapped[int] = mapped_column(Integer)
    recipient_email: Mapped[str] = mapped_column(String(320), index=True)
    recipient_name: Mapped[str] = mapped_column(String(200))
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issuer_did: Mapped[str] = mapped_column(String(500))
    key_id: Mapped[str] = mapped_column(String(64), index=True)
    issued_at: Mapped[datetime] = mapped_column()
    pdp_value: Mapped[float | None] = mapped_column(Float)  # PDPs in force when earned (also in the document)
    # The approved submission it was issued for: unique, so one approval can never make two.
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), unique=True)
    # active | suspended | revoked; mirrored in the published status list (revocation is final)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column()
    # The credential this one replaces (a re-issue or a renewal); unique: a credential is replaced at most once.
    replaces_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    valid_until: Mapped[datetime | None] = mapped_column(index=True)  # the document's validUntil; None: no expiry
    # Sharing choices of the teacher: a private credential's page answers 404 to others; names
    # shown in full or as initials; search engines index the page only when the teacher opts in.
    visibility: Mapped[str] = mapped_column(String(10), default="public")
    name_display: Mapped[str] = mapped_column(String(10), default="full")
    indexable: Mapped[bool] = mapped_column(default=False)
    shown_evidence: Mapped[list[str]] = mapped_column(JSON, default=list)  # evidence ids shown on the page
    document: Mapped[str] = mapped_column(Text)

    recipient: Mapped[User | None] = relationship()


class BadgeClassRecord(Base):
    """A micro-credential in the catalogue: its status and which version is current."""

    __tablename__ = "badge_classes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | retired
    current_version: Mapped[int] = mapped_column(Integer)
    # What the definition file said at the last sync (content hash + status), so a sync can tell
    # a changed file from a web edit made since, and never silently undo the latter.
    file_fingerprint: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    versions: Mapped[list[BadgeClassVersion]] = relationship(back_populates="badge_class",
                                                             order_by="BadgeClassVersion.version")


class BadgeClassVersion(Base):
    """One immutable version of a badge class: the validated definition and its content hash."""

    __tablename__ = "badge_class_versions"
    __table_args__ = (UniqueConstraint("badge_class_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    badge_class_id: Mapped[int] = mapped_column(ForeignKey("badge_classes.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(80))
    definition: Mapped[dict] = mapped_column(JSON)  # canonical definition, alignments resolved
    image: Mapped[bytes | None] = mapped_column(LargeBinary)  # a custom image; None: generated
    source: Mapped[str] = mapped_column(String(20))  # file | web
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    badge_class: Mapped[BadgeClassRecord] = relationship(back_populates="versions")


class AuditEvent(Base):
    """Who did what, when: append-only."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(80), index=True)
    subject: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class LoginFailure(Base):
    """A failed login, keyed by account and by address, counted to slow down password guessing."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(400), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
