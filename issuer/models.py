"""Typed SQLAlchemy 2.0 models. Credentials are stored exactly as signed, never rebuilt from columns."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: DateTime(timezone=True)}


class User(Base):
    """A person; roles are a comma-free list (teacher, assessor, coordinator, licensure, admin)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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
    document: Mapped[str] = mapped_column(Text)

    recipient: Mapped[User | None] = relationship()


class AuditEvent(Base):
    """Who did what, when: append-only."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(80), index=True)
    subject: Mapped[str] = mapped_column(String(500))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
