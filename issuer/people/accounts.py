"""People and their passwords (argon2id, memory-hard)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..audit import record_event
from ..models import District, Enrolment, User

_hasher = PasswordHasher()
ROLES = ("teacher", "assessor", "coordinator", "licensure", "admin")
DEMO_ACCOUNTS = (
    ("admin@demo.microcred.test", "Avery Admin", ["admin"]),
    ("assessor@demo.microcred.test", "Sam Assessor", ["assessor"]),
    ("coordinator@demo.microcred.test", "Casey Coordinator", ["coordinator"]),
    ("licensure@demo.microcred.test", "Lee Licensure", ["licensure"]),
    ("teacher@demo.microcred.test", "Taylor Teacher", ["teacher"]),
)

# The demo's districts; the assessor's is another district than the teacher's, so blind
# cross-district review is the natural case.
DEMO_DISTRICTS = (("Maple County Schools", "MCS"), ("River City Schools", "RCS"))
DEMO_HOMES = {"coordinator@demo.microcred.test": "MCS", "teacher@demo.microcred.test": "MCS",
              "assessor@demo.microcred.test": "RCS"}
DEMO_ENROLMENT = ("teacher@demo.microcred.test", "MCS", "team")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    if not user.password_hash:
        return False
    try:
        return _hasher.verify(user.password_hash, password)
    except Exception:
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


def ensure_demo_districts(session: Session, *, year: str) -> list[str]:
    """Create the demo districts, give the demo coordinator, teacher and assessor their home district,
    and enrol the demo teacher in `year` (idempotent: nothing that exists is changed). One line each."""
    districts = {}
    for name, code in DEMO_DISTRICTS:
        district = session.scalar(select(District).where((District.code == code) | (District.name == name)))
        if district is None:
            district = District(name=name, code=code)
            session.add(district)
            session.flush()
        districts[code] = district
    users = {u.email: u for u in session.scalars(select(User).where(User.email.in_(DEMO_HOMES)))}
    for email, code in DEMO_HOMES.items():
        if email in users and users[email].district_id is None:
            users[email].district_id = districts[code].id
    email, code, pathway = DEMO_ENROLMENT
    teacher = users.get(email)
    enrolment = teacher and session.scalar(select(Enrolment).where(Enrolment.user_id == teacher.id,
                                                                   Enrolment.year == year))
    if teacher is not None and enrolment is None:
        enrolment = Enrolment(user_id=teacher.id, district_id=districts[code].id, pathway=pathway, year=year,
                              created_by="cli:demo")
        session.add(enrolment)
        record_event(session, actor="cli:demo", action="enrolment.created", subject=f"user:{email}",
                     detail={"year": year, "from": None, "to": {"district": code, "pathway": pathway}})
    lines = [f"{d.name} ({d.code}): " + (", ".join(sorted(u.email for u in users.values() if u.district_id == d.id))
                                         or "nobody yet") for d in districts.values()]
    if enrolment:
        lines.append(f"{email} is enrolled for {year}: {enrolment.pathway} pathway")
    return lines
