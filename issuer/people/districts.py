"""Districts, enrolments (with the programme's pathway caps) and administrators' changes to accounts.

Services take the session and the acting user explicitly; every change is in the audit log with
the state before and after. Role and district checks are made here, on the server, whatever a
page offers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from badge_classes import PATHWAYS

from ..audit import record_event
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..models import District, Enrolment, User
from .accounts import ROLES

CAPS = {"teacher-leader": 14, "team": 100}  # participants per district, pathway and programme year
MINIMUM_TEACHERS = 10  # a district invites at least this many teachers
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,39}$")
_YEAR = re.compile(r"^(\d{4})-(\d{2})$")


class PeopleError(InvalidInput):
    """Base of what the people services refuse (accounts, districts, enrolments, invitations, sign-in);
    raised itself for a value that cannot be used."""

    code = "invalid_input"


class PeopleNotFound(NotFound, PeopleError):
    """No such district, account or enrolment."""


class PeopleConflict(Conflict, PeopleError):
    """A duplicate district, an account that exists already, an enrolment that is taken."""


class CapReached(Conflict, PeopleError):
    code = "cap_reached"


class SelfChangeRefused(Conflict, PeopleError):
    code = "self_change_refused"


def programme_year(today: date) -> str:
    """The programme year a day falls in: a year starts on 1 July ('2026-27' runs to 30 June 2027)."""
    start = today.year if today.month >= 7 else today.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def check_year(year: str) -> str:
    """A programme year like '2026-27'; PeopleError otherwise."""
    match = _YEAR.match(year or "")
    if not match or (int(match.group(1)) + 1) % 100 != int(match.group(2)):
        raise PeopleError(f"{year!r} is not a programme year: write it like 2026-27.")
    return year


def check_pathway(pathway: str) -> str:
    if pathway not in CAPS:
        raise PeopleError(f"{pathway!r} is not a pathway: choose {' or '.join(CAPS)}.")
    return pathway


# --- districts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistrictSummary:
    """A district and how many teachers each pathway has in one programme year."""

    district: District
    year: str
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def below_minimum(self) -> bool:
        return self.total < MINIMUM_TEACHERS


def create_district(session: Session, *, name: str, code: str, actor: User) -> District:
    """A new district; PeopleError for a bad name or code, Conflict when either is taken."""
    name, code = " ".join((name or "").split()), (code or "").strip().upper()
    if not 2 <= len(name) <= 200:
        raise PeopleError("A district's name is 2 to 200 characters long.")
    if not _CODE.match(code):
        raise PeopleError("A district's code is 1 to 40 letters, digits or hyphens (for example MCS).")
    taken = session.scalar(select(District).where((func.lower(District.name) == name.lower()) | (District.code == code)))
    if taken is not None:
        raise PeopleConflict(f"There is already a district called {taken.name} ({taken.code}).")
    district = District(name=name, code=code)
    session.add(district)
    _flush_or_conflict(session, f"There is already a district called {name} or coded {code}.")
    record_event(session, actor=actor.email, action="district.created", subject=f"district:{code}",
                 detail={"name": name, "code": code})
    return district


def get_district(session: Session, district_id: int) -> District:
    district = session.get(District, district_id)
    if district is None:
        raise PeopleNotFound("There is no such district.")
    return district


def district_for(session: Session, actor: User, district_id: int) -> District:
    """The district when `actor` may manage it: administrators any, coordinators only their own."""
    if not actor.has_role("admin") and not (actor.has_role("coordinator") and actor.district_id == district_id):
        raise Forbidden("You can only see and manage your own district.")
    return get_district(session, district_id)


def pathway_counts(session: Session, district: District, year: str) -> dict[str, int]:
    rows = session.execute(select(Enrolment.pathway, func.count()).where(Enrolment.district_id == district.id,
                                                                         Enrolment.year == year)
                           .group_by(Enrolment.pathway))
    counts = {pathway: 0 for pathway in CAPS}
    counts.update({pathway: n for pathway, n in rows})
    return counts


def list_districts(session: Session, year: str) -> list[DistrictSummary]:
    """Every district by name, with its teachers per pathway in `year`."""
    rows = session.execute(select(Enrolment.district_id, Enrolment.pathway, func.count())
                           .where(Enrolment.year == year).group_by(Enrolment.district_id, Enrolment.pathway))
    counts: dict[int, dict[str, int]] = {}
    for district_id, pathway, n in rows:
        counts.setdefault(district_id, {p: 0 for p in CAPS})[pathway] = n
    districts = session.scalars(select(District).order_by(District.name))
    return [DistrictSummary(d, year, counts.get(d.id, {p: 0 for p in CAPS})) for d in districts]


def below_minimum(session: Session, district: District, year: str) -> bool:
    """True when fewer than MINIMUM_TEACHERS teachers of the district are enrolled in `year`."""
    return sum(pathway_counts(session, district, year).values()) < MINIMUM_TEACHERS


def roster(session: Session, district: District, year: str) -> tuple[dict[str, list[User]], list[User]]:
    """The district's teachers in `year`: enrolled ones by pathway, and its teachers not enrolled."""
    enrolled = session.execute(select(Enrolment.pathway, User).join(User, User.id == Enrolment.user_id)
                               .where(Enrolment.district_id == district.id, Enrolment.year == year)
                               .order_by(User.display_name, User.email))
    by_pathway: dict[str, list[User]] = {pathway: [] for pathway in CAPS}
    for pathway, user in enrolled:
        by_pathway.setdefault(pathway, []).append(user)
    ids = {u.id for users in by_pathway.values() for u in users}
    home = session.scalars(select(User).where(User.district_id == district.id).order_by(User.display_name, User.email))
    return by_pathway, [u for u in home if u.has_role("teacher") and u.id not in ids]


# --- enrolments -------------------------------------------------------------------------------


def enrolment_of(session: Session, user: User, year: str) -> Enrolment | None:
    return session.scalar(select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.year == year))


def check_cap(session: Session, district: District, pathway: str, year: str, *, moving: User | None = None) -> None:
    """CapReached when the pathway of the district is full in `year` (not counting `moving`)."""
    query = select(func.count()).select_from(Enrolment).where(
        Enrolment.district_id == district.id, Enrolment.pathway == pathway, Enrolment.year == year)
    if moving is not None:
        query = query.where(Enrolment.user_id != moving.id)
    enrolled = session.scalar(query) or 0
    if enrolled >= CAPS[pathway]:
        raise CapReached(f"{district.name} already has {enrolled} teachers in the {PATHWAYS[pathway]} pathway for "
                         f"{year}; the cap is {CAPS[pathway]}. Withdraw someone first or choose the other pathway.")


def enrol(session: Session, *, user: User, district: District, pathway: str, year: str, actor: User | str) -> Enrolment:
    """Enrol a teacher (or move their enrolment of `year`) into a district's pathway, within the caps.

    Coordinators may only enrol teachers of their own district into it. Raises CapReached,
    Forbidden, PeopleError."""
    check_pathway(pathway)
    check_year(year)
    actor_email = _authorise_enrolment(actor, user, district)
    if not user.has_role("teacher"):
        raise PeopleError(f"{user.display_name} is not a teacher: only teachers are enrolled in a pathway.")
    # Lock the district row (PostgreSQL): enrolments in one district are counted one at a time.
    session.execute(select(District.id).where(District.id == district.id).with_for_update())
    existing = enrolment_of(session, user, year)
    before = _state(existing)
    if existing is not None and (existing.district_id, existing.pathway) == (district.id, pathway):
        return existing
    check_cap(session, district, pathway, year, moving=user)
    if existing is None:
        existing = Enrolment(user_id=user.id, year=year, created_by=actor_email)
        session.add(existing)
    existing.district_id, existing.pathway, existing.district = district.id, pathway, district
    previous_home = user.district_id
    user.district_id = district.id  # the teacher's home district follows their enrolment
    _flush_or_conflict(session, f"{user.display_name}'s enrolment was changed at the same time; try again.")
    record_event(session, actor=actor_email, action="enrolment.created" if before is None else "enrolment.changed",
                 subject=f"user:{user.email}", detail={"year": year, "from": before, "to": _state(existing),
                                                       "home_district_before": previous_home})
    return existing


def withdraw(session: Session, *, user: User, year: str, actor: User) -> None:
    """Remove a teacher's enrolment of `year` (it frees a place under the cap)."""
    existing = enrolment_of(session, user, year)
    if existing is None:
        raise PeopleNotFound(f"{user.display_name} is not enrolled in {year}.")
    actor_email = _authorise_enrolment(actor, user, existing.district)
    record_event(session, actor=actor_email, action="enrolment.withdrawn", subject=f"user:{user.email}",
                 detail={"year": year, "from": _state(existing), "to": None})
    session.delete(existing)


def _authorise_enrolment(actor: User | str, user: User, district: District) -> str:
    if isinstance(actor, str):
        return actor  # a system actor (the CLI, an invitation being accepted)
    if actor.has_role("admin"):
        return actor.email
    if actor.has_role("coordinator") and actor.district_id == district.id == user.district_id:
        return actor.email
    raise Forbidden("Coordinators enrol only teachers of their own district, into it.")


def _state(enrolment: Enrolment | None) -> dict[str, object] | None:
    if enrolment is None:
        return None
    return {"district_id": enrolment.district_id, "district": enrolment.district.code, "pathway": enrolment.pathway}


# --- accounts (administrators) ----------------------------------------------------------------


def get_person(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise PeopleNotFound("There is no such account.")
    return user


def list_people(session: Session, *, search: str = "", limit: int = 200) -> list[User]:
    """Accounts by email, optionally those whose name or email contains `search`."""
    query = select(User).order_by(User.email).limit(limit)
    if search.strip():
        pattern = f"%{search.strip().lower()}%"
        query = query.where(func.lower(User.email).like(pattern) | func.lower(User.display_name).like(pattern))
    return list(session.scalars(query))


def update_person(session: Session, *, person: User, roles: list[str], district: District | None, actor: User) -> None:
    """Change an account's roles and home district (administrators). An administrator cannot remove
    their own admin role; a coordinator needs a district."""
    _require_admin(actor)
    unknown = set(roles) - set(ROLES)
    roles = [role for role in ROLES if role in set(roles)]
    if not roles or unknown:
        raise PeopleError(f"Choose at least one role from: {', '.join(ROLES)}.")
    if person.id == actor.id and "admin" not in roles:
        raise SelfChangeRefused("You cannot remove your own administrator role: ask another administrator.")
    if "coordinator" in roles and district is None:
        raise PeopleError("A coordinator needs a district.")
    before = {"roles": list(person.roles or []), "district_id": person.district_id}
    person.roles, person.district_id = roles, district.id if district else None
    after = {"roles": roles, "district_id": person.district_id}
    if before != after:
        record_event(session, actor=actor.email, action="person.updated", subject=f"user:{person.email}",
                     detail={"from": before, "to": after})


def set_active(session: Session, *, person: User, active: bool, actor: User) -> None:
    """Deactivate (cannot sign in; every session ends) or reactivate an account. Not one's own."""
    _require_admin(actor)
    if person.id == actor.id:
        raise SelfChangeRefused("You cannot deactivate your own account: ask another administrator.")
    if person.active == active:
        return
    person.active = active
    person.session_epoch += 1
    record_event(session, actor=actor.email, action="person.reactivated" if active else "person.deactivated",
                 subject=f"user:{person.email}", detail={"from": {"active": not active}, "to": {"active": active}})


def _require_admin(actor: User) -> None:
    if not actor.has_role("admin"):
        raise Forbidden("Only administrators change accounts.")


def _flush_or_conflict(session: Session, message: str) -> None:
    """Flush now, so a unique constraint another request won the race for is a clear 409."""
    try:
        session.flush()
    except IntegrityError:
        raise PeopleConflict(message) from None
