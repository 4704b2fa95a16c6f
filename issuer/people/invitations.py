"""Links sent by mail: invitations (which create accounts) and password resets.

A link carries a random token (secrets.token_urlsafe(32)); only its SHA-256 is stored, so the
database alone never lets anyone in. Invitations last 14 days, reset links 1 hour; both work once.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from badge_classes import PATHWAYS

from ..audit import record_event
from ..config import Settings
from ..errors import Forbidden, Gone, NotFound
from ..mail import queue_mail
from ..models import District, Invitation, LoginFailure, PasswordReset, User
from .accounts import ROLES, hash_password
from .districts import PeopleConflict, PeopleError, check_cap, check_pathway, check_year, enrol

INVITATION_LIFETIME = timedelta(days=14)
RESET_LIFETIME = timedelta(hours=1)
RESETS_PER_HOUR = 3  # more requests for one account in an hour queue no more mail (no mail bombing)
MIN_PASSWORD = 12
MAX_PASSWORD = 1000
_EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


class LinkUnknown(NotFound, PeopleError):
    code = "link_unknown"


class LinkExpired(Gone, PeopleError):
    code = "link_expired"


class PasswordRejected(PeopleError):
    code = "password_rejected"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    """The address in lower case; PeopleError when it does not look like one."""
    email = (email or "").strip().lower()
    if len(email) > 320 or not _EMAIL.match(email):
        raise PeopleError(f"{email or 'An empty address'} is not an email address.")
    return email


def check_password(password: str, email: str) -> None:
    """PasswordRejected unless the password is 12 to 1000 characters and not the email address."""
    if len(password or "") < MIN_PASSWORD:
        raise PasswordRejected(f"Choose a password of at least {MIN_PASSWORD} characters "
                               "(a few unrelated words are easy to remember).")
    if len(password) > MAX_PASSWORD:
        raise PasswordRejected(f"Choose a password of at most {MAX_PASSWORD} characters.")
    if password.strip().lower() == email.strip().lower():
        raise PasswordRejected("Your password cannot be your email address.")


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    """SQLite hands datetimes back without their zone; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# --- invitations ------------------------------------------------------------------------------


def invite(session: Session, *, actor: User, settings: Settings, email: str, display_name: str,
           roles: list[str], district: District | None = None, pathway: str | None = None,
           year: str | None = None, now: datetime | None = None) -> tuple[Invitation, str]:
    """Invite someone by mail; (invitation, token). Administrators invite anyone with any roles;
    coordinators only teachers, into their own district. Earlier pending invitations to the address
    stop working. Raises Forbidden, PeopleError, PeopleConflict (an account exists), CapReached."""
    now = _now(now)
    if not roles or set(roles) - set(ROLES):
        raise PeopleError(f"Choose at least one role from: {', '.join(ROLES)}.")
    roles = [role for role in ROLES if role in set(roles)]
    district = _authorise_invitation(session, actor, roles, district)
    email, display_name = normalise_email(email), " ".join((display_name or "").split())
    if not 1 <= len(display_name) <= 200:
        raise PeopleError("Give the person's name (up to 200 characters).")
    if "coordinator" in roles and district is None:
        raise PeopleError("A coordinator needs a district: choose one.")
    if pathway:
        check_pathway(pathway)
        check_year(year or "")
        if district is None or "teacher" not in roles:
            raise PeopleError("Only a teacher with a district can be enrolled in a pathway.")
        check_cap(session, district, pathway, year or "")  # accepting checks again: nothing is reserved
    existing = session.scalar(select(User).where(func.lower(User.email) == email))
    if existing is not None:
        state = "an account" if existing.active else "a deactivated account (an administrator can reactivate it)"
        raise PeopleConflict(f"{email} already has {state}: there is no need to invite them.")
    for earlier in session.scalars(select(Invitation).where(Invitation.email == email,
                                                            Invitation.accepted_at.is_(None),
                                                            Invitation.expires_at > now)):
        earlier.expires_at = now  # only the newest link works
    token = secrets.token_urlsafe(32)
    invitation = Invitation(email=email, display_name=display_name, roles=roles,
                            district_id=district.id if district else None, pathway=pathway or None,
                            year=year if pathway else None, token_hash=hash_token(token), invited_by=actor.email,
                            created_at=now, expires_at=now + INVITATION_LIFETIME)
    session.add(invitation)
    link = f"{settings.public_url}/invitations/{token}"
    queue_mail(session, to=email, kind="invitation", settings=settings,
               subject=f"You are invited to {settings.issuer_name}", body=_invitation_body(invitation, district, link))
    record_event(session, actor=actor.email, action="invitation.created", subject=f"invitation:{email}",
                 detail={"roles": roles, "district": district.code if district else None, "pathway": pathway,
                         "year": invitation.year, "expires_at": invitation.expires_at.isoformat()})
    return invitation, token


def _authorise_invitation(session: Session, actor: User, roles: list[str],
                          district: District | None) -> District | None:
    if actor.has_role("admin"):
        return district
    if not actor.has_role("coordinator") or actor.district_id is None:
        raise Forbidden("Only administrators and district coordinators invite people.")
    if roles != ["teacher"]:
        raise Forbidden("Coordinators invite teachers only; an administrator invites anyone else.")
    if district is not None and district.id != actor.district_id:
        raise Forbidden("Coordinators invite teachers into their own district only.")
    return session.get(District, actor.district_id)


def _invitation_body(invitation: Invitation, district: District | None, link: str) -> str:
    where = f" in {district.name}" if district else ""
    pathway = f", {PATHWAYS[invitation.pathway]} pathway ({invitation.year})" if invitation.pathway else ""
    return (f"Hello {invitation.display_name},\n\n{invitation.invited_by} invites you to the teacher micro-credential "
            f"service as {', '.join(invitation.roles)}{where}{pathway}.\n\nChoose your password here (the link works "
            f"once, until {invitation.expires_at:%d %B %Y}):\n\n{link}\n\nIf you did not expect this, ignore it.\n")


def pending_invitations(session: Session, *, district_id: int | None = None,
                        now: datetime | None = None) -> list[Invitation]:
    """Invitations not yet accepted nor expired, newest first; only one district's when given."""
    query = (select(Invitation).where(Invitation.accepted_at.is_(None), Invitation.expires_at > _now(now))
             .order_by(Invitation.created_at.desc(), Invitation.id.desc()))
    if district_id is not None:
        query = query.where(Invitation.district_id == district_id)
    return list(session.scalars(query))


def find_invitation(session: Session, token: str, *, now: datetime | None = None) -> Invitation:
    """The pending invitation of a token; LinkUnknown (404) or LinkExpired (410, also when used)."""
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == hash_token(token or ""))
                                .with_for_update())
    if invitation is None:
        raise LinkUnknown("This invitation link is not known. Check that the whole link was copied.")
    if invitation.accepted_at is not None:
        raise LinkExpired("This invitation was already used. Sign in, or reset your password if you forgot it.")
    if _aware(invitation.expires_at) <= _now(now):
        raise LinkExpired("This invitation has expired or was replaced by a newer one: ask for a new invitation.")
    return invitation


def accept_invitation(session: Session, token: str, *, password: str, display_name: str,
                      now: datetime | None = None) -> User:
    """Create the invited account (and its enrolment, within the caps); the invitation is used up."""
    now = _now(now)
    invitation = find_invitation(session, token, now=now)
    check_password(password, invitation.email)
    display_name = " ".join((display_name or "").split()) or invitation.display_name
    if len(display_name) > 200:
        raise PeopleError("Your name can be up to 200 characters long.")
    if session.scalar(select(User.id).where(func.lower(User.email) == invitation.email)) is not None:
        raise PeopleConflict(f"{invitation.email} already has an account: sign in instead.")
    user = User(email=invitation.email, display_name=display_name, password_hash=hash_password(password),
                roles=list(invitation.roles), district_id=invitation.district_id, active=True, session_epoch=0)
    session.add(user)
    session.flush()
    if invitation.pathway and invitation.year and invitation.district_id:
        district = session.get(District, invitation.district_id)
        enrol(session, user=user, district=district, pathway=invitation.pathway, year=invitation.year,
              actor=f"invitation:{invitation.invited_by}")
    invitation.accepted_at = now
    record_event(session, actor=user.email, action="invitation.accepted", subject=f"user:{user.email}",
                 detail={"roles": user.roles, "district_id": user.district_id, "invited_by": invitation.invited_by})
    return user


# --- password resets --------------------------------------------------------------------------


def request_reset(session: Session, email: str, *, settings: Settings, now: datetime | None = None) -> None:
    """Mail a reset link when the address has an active account. Behaves the same either way (no
    answer, no error) so nobody learns which addresses have accounts."""
    now = _now(now)
    email = (email or "").strip().lower()
    user = session.scalar(select(User).where(func.lower(User.email) == email, User.active.is_(True))) if email else None
    if user is None:
        return
    recent = session.scalar(select(func.count()).select_from(PasswordReset)
                            .where(PasswordReset.user_id == user.id, PasswordReset.created_at > now - RESET_LIFETIME))
    if recent >= RESETS_PER_HOUR:
        return
    issue_reset(session, user, settings=settings, actor=user.email, now=now)


def issue_reset(session: Session, user: User, *, settings: Settings, actor: str, now: datetime | None = None) -> str:
    """Queue a reset link for `user` (also used by administrators); the token."""
    now = _now(now)
    token = secrets.token_urlsafe(32)
    session.add(PasswordReset(user_id=user.id, token_hash=hash_token(token), created_at=now,
                              expires_at=now + RESET_LIFETIME))
    link = f"{settings.public_url}/reset/{token}"
    queue_mail(session, to=user.email, kind="password_reset", settings=settings,
               subject="Reset your password",
               body=(f"Hello {user.display_name},\n\nSomeone (we hope you) asked to reset your password. Choose a "
                     f"new one here within the hour (the link works once):\n\n{link}\n\nIf it was not you, ignore "
                     "this message: your password stays as it is.\n"))
    record_event(session, actor=actor, action="password_reset.requested", subject=f"user:{user.email}",
                 detail={"expires_at": (now + RESET_LIFETIME).isoformat()})
    return token


def find_reset(session: Session, token: str, *, now: datetime | None = None) -> PasswordReset:
    """The usable reset of a token; LinkUnknown (404) or LinkExpired (410: used, expired, deactivated)."""
    reset = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == hash_token(token or ""))
                           .with_for_update())
    if reset is None:
        raise LinkUnknown("This reset link is not known. Check that the whole link was copied.")
    user = session.get(User, reset.user_id)
    if reset.used_at is not None or _aware(reset.expires_at) <= _now(now) or user is None or not user.active:
        raise LinkExpired("This reset link has expired or was already used: ask for a new one.")
    return reset


def complete_reset(session: Session, token: str, password: str, *, now: datetime | None = None) -> User:
    """Set the new password; the link is used up, every session of the account ends and its failed
    sign-ins are forgotten."""
    now = _now(now)
    reset = find_reset(session, token, now=now)
    user = session.get(User, reset.user_id)
    check_password(password, user.email)
    user.password_hash = hash_password(password)
    user.session_epoch += 1
    for other in session.scalars(select(PasswordReset).where(PasswordReset.user_id == user.id,
                                                             PasswordReset.used_at.is_(None))):
        other.used_at = now  # this one and any other outstanding link
    session.execute(delete(LoginFailure).where(LoginFailure.key == f"account:{user.email.lower()}"))
    record_event(session, actor=user.email, action="password.reset", subject=f"user:{user.email}", detail={})
    return user
