"""Signing in: password check (argon2id), failed-login rate limiting, roles.

Failures are counted in the database per account and per address, so the limit holds across
worker processes and restarts. Unknown accounts cost the same hashing time as known ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..errors import Forbidden, NotAuthenticated, Throttled
from ..models import LoginFailure, User
from .accounts import hash_password, verify_password

WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 30
_DUMMY_HASH = hash_password("not a real password; equalises timing for unknown accounts")


class LoginFailed(NotAuthenticated):
    code = "login_failed"


LOGIN_FAILED = "The email address or password is not right. Check both and try again."


class TooManyAttempts(Throttled):
    code = "too_many_attempts"


def authenticate(session: Session, email: str, password: str, *, address: str,
                 now: datetime | None = None) -> User | None:
    """The user with this email and password, or None (the failure is recorded in the caller's
    transaction, so commit it). TooManyAttempts when the account or address is locked out."""
    now = now or datetime.now(UTC)
    email = (email or "").strip().lower()
    keys = (f"account:{email}", f"address:{address}")
    _refuse_when_limited(session, keys, now)
    user = session.scalar(select(User).where(func.lower(User.email) == email)) if email else None
    if user is None:
        verify_password(User(password_hash=_DUMMY_HASH), password or "")
        ok = False
    else:
        ok = verify_password(user, password or "")
    if not ok:
        session.execute(delete(LoginFailure).where(LoginFailure.at < now - WINDOW))  # keep the table small
        session.add_all(LoginFailure(key=key, at=now) for key in keys)
        return None
    session.execute(delete(LoginFailure).where(LoginFailure.key == keys[0]))
    return user


def _refuse_when_limited(session: Session, keys: tuple[str, str], now: datetime) -> None:
    since = now - WINDOW
    for key, limit in zip(keys, (MAX_FAILURES_PER_ACCOUNT, MAX_FAILURES_PER_ADDRESS), strict=True):
        count = session.scalar(select(func.count()).select_from(LoginFailure)
                               .where(LoginFailure.key == key, LoginFailure.at >= since))
        if count >= limit:
            raise TooManyAttempts(f"Too many failed sign-ins. Wait {int(WINDOW.total_seconds() // 60)} minutes "
                                  "and try again, or reset your password.")


def require_roles(user: User | None, *roles: str) -> User:
    """The user when they hold one of `roles`; Forbidden (or LoginFailed when nobody is signed in)."""
    if user is None:
        raise LoginFailed("Sign in to continue.")
    if roles and not set(roles) & set(user.roles or []):
        raise Forbidden(f"This page is for {' or '.join(roles)} accounts; yours is not one.")
    return user
