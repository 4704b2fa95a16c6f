"""The audit log: every consequential action, who did it and when."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from .models import AuditEvent


def record_event(session: Session, *, actor: str, action: str, subject: str, detail: dict[str, Any] | None = None) -> AuditEvent:
    """Append an audit event in the caller's transaction."""
    event = AuditEvent(actor=actor, action=action, subject=subject, detail=detail or {})
    session.add(event)
    return event
