"""c_nonce values (OID4VCI 1.0 §7): signed and timestamped, so the Nonce Endpoint stores nothing.

A nonce is `<issued, µs since the epoch>.<random>.<HMAC-SHA256>` under the app's secret key; it is
good for five minutes. Single use is enforced per offer when it is spent (see delivery.py): an offer
accepts only a nonce issued after the last one it accepted.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from itsdangerous import BadSignature, Signer

from .errors import InvalidNonce

NONCE_LIFETIME = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=60)
_SALT = "microcred.oid4vci.c_nonce"
_MAX_LENGTH = 200
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NOT_OURS = "The nonce is not one this issuer gave out: get a new one from the nonce endpoint."


def issue_nonce(secret_key: str, *, now: datetime | None = None) -> str:
    """A fresh, unpredictable c_nonce."""
    now = now or datetime.now(UTC)
    micros = (now - _EPOCH) // timedelta(microseconds=1)
    return _signer(secret_key).sign(f"{micros}.{secrets.token_urlsafe(16)}").decode("ascii")


def nonce_issued_at(nonce: object, secret_key: str, *, now: datetime | None = None) -> datetime:
    """When this nonce was issued; raises InvalidNonce when it is not ours, or too old."""
    now = now or datetime.now(UTC)
    if not isinstance(nonce, str) or not nonce or len(nonce) > _MAX_LENGTH:
        raise InvalidNonce(_NOT_OURS)
    try:
        payload = _signer(secret_key).unsign(nonce).decode("ascii")
        issued = _EPOCH + timedelta(microseconds=int(payload.split(".", 1)[0]))
    except (BadSignature, ValueError, OverflowError):
        raise InvalidNonce(_NOT_OURS) from None
    if issued > now + CLOCK_SKEW or now - issued > NONCE_LIFETIME:
        raise InvalidNonce("The nonce has expired (nonces are good for five minutes): get a new one.")
    return issued


def nonce_digest(nonce: str) -> str:
    return hashlib.sha256(nonce.encode("utf-8")).hexdigest()


def _signer(secret_key: str) -> Signer:
    return Signer(secret_key, salt=_SALT, digest_method=hashlib.sha256)
