"""People and their passwords (argon2id, memory-hard)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import User

_hasher = PasswordHasher()
ROLES = ("teacher", "assessor", "coordinator", "licensure", "admin")
DEMO_ACCOUNTS = (
    ("admin@demo.microcred.test", "Avery Admin", ["admin"]),
    ("assessor@demo.microcred.test", "Sam Assessor", ["assessor"]),
    ("coordinator@demo.microcred.test", "Casey Coordinator", ["coordinator"]),
    ("licensure@demo.microcred.test", "Lee Licensure", ["licensure"]),
    ("teacher@demo.microcred.test", "Taylor Teacher", ["teacher"]),
)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except Exception:  # noqa: BLE001 - argon2 raises several mismatch types; all mean "no"
        return False


def ensure_demo_accounts(session: Session, logins_file: Path) -> list[tuple[str, str, list[str]]]:
    """Create the demo accounts once; their generated passwords are kept in a 0600 file and returned."""
    saved: dict[str, str] = json.loads(logins_file.read_text()) if logins_file.exists() else {}
    result = []
    for email, name, roles in DEMO_ACCOUNTS:
        user = session.scalar(select(User).where(User.email == email))
        password = saved.get(email)
        if user is None or password is None:
            password = secrets.token_urlsafe(9)
            saved[email] = password
            if user is None:
                user = User(email=email, display_name=name, roles=roles)
                session.add(user)
            user.password_hash = hash_password(password)
        result.append((email, password, roles))
    logins_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(logins_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(saved, fh, indent=2)
    return result
