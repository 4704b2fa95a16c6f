"""The Flask extensions every blueprint shares: CSRF protection, the rate limiter and its one shared limit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_wtf.csrf import CSRFProtect

from .runtime import runtime

csrf = CSRFProtect()
# Per-client limits of the anonymous verification API (storage: MICROCRED_RATELIMIT_STORAGE).
limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=True)
VERIFICATION_STAFF = ("licensure", "admin")  # verify without the anonymous limit


def is_verification_staff() -> bool:
    """True when the signed-in user is licensure staff or an administrator."""
    user = g.get("user")
    return bool(user is not None and user.has_role(*VERIFICATION_STAFF))


def _verify_rate() -> str:
    return runtime().settings.verify_rate_limit


def verify_limit() -> Callable[[Any], Any]:
    """The per-address limit that /verify, POST /api/v1/verify and POST /credentials/verify share
    (MICROCRED_VERIFY_RATE_LIMIT, on POST only; staff are not limited)."""
    return limiter.shared_limit(_verify_rate, scope="verify", methods=["POST"], exempt_when=is_verification_staff)
