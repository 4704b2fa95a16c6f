"""Sharing an earned credential: wallet pick-up offers (OpenID for Verifiable Credential Issuance)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, utcnow


class CredentialOffer(Base):
    """A pre-authorized code offer for one credential; only hashes of codes and tokens are stored."""

    __tablename__ = "credential_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    credential_row_id: Mapped[int] = mapped_column(ForeignKey("credentials.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    tx_code_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    code_used_at: Mapped[datetime | None] = mapped_column()
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column()
    c_nonce: Mapped[str | None] = mapped_column(String(64))
    c_nonce_expires_at: Mapped[datetime | None] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()
    holder: Mapped[str | None] = mapped_column(String(500))  # the wallet's key (did:key / jwk thumbprint)
