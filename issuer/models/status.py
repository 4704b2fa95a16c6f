"""Bitstring status lists the issuer publishes, and each credential's place in one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class StatusList(Base):
    """One published list: its bits, and the signed BitstringStatusListCredential last made of them."""

    __tablename__ = "status_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[str] = mapped_column(String(40), unique=True)  # random: /status/<list_id>
    purpose: Mapped[str] = mapped_column(String(20))
    status_size: Mapped[int] = mapped_column(Integer)
    entries: Mapped[int] = mapped_column(Integer)
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    bits: Mapped[bytes] = mapped_column(LargeBinary)
    revision: Mapped[int] = mapped_column(Integer, default=1)  # bumped by every change of a bit
    signed_document: Mapped[str | None] = mapped_column(Text)  # the list credential, as signed
    signed_revision: Mapped[int | None] = mapped_column(Integer)
    signed_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class StatusEntry(Base):
    """A credential's index in a status list: random, never reused (unique per list)."""

    __tablename__ = "status_entries"
    __table_args__ = (UniqueConstraint("status_list_id", "list_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"), index=True)
    list_index: Mapped[int] = mapped_column(Integer)
    credential_id: Mapped[str] = mapped_column(String(200), unique=True)  # the VC's id (urn:uuid:...)
