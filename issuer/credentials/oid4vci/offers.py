"""Credential Offers and the Token Endpoint of the pre-authorized code flow (OID4VCI 1.0 §4.1, §6).

A teacher makes an offer for one of their own active credentials: a pre-authorized code (single use,
ten minutes) and, by default, a 6-digit PIN (tx_code) the wallet must send with it. Only hashes are
stored: the code's SHA-256, and the PIN's HMAC keyed with the code (so the stored PIN hash is
worthless without the code). A new offer retires the credential's older unused ones. Five wrong PINs
close an offer: OID4VCI puts no limit on guesses, but a 6-digit PIN needs one (§13.6).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import qrcode
import qrcode.image.svg
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ...audit import record_event
from ...errors import Conflict, NotFound
from ...models import AuditEvent, Credential, CredentialOffer, User
from .errors import InvalidGrant, InvalidRequest, UnsupportedGrantType
from .metadata import CONFIGURATION_ID, PRE_AUTHORIZED_GRANT

OFFER_LIFETIME = timedelta(minutes=10)
TOKEN_LIFETIME = timedelta(minutes=5)  # OID4VCI §13.10: longer-lived bearer tokens count as long-lived
TX_CODE_LENGTH = 6
MAX_TX_CODE_FAILURES = 5
TX_CODE_DESCRIPTION = "Enter the 6-digit PIN shown beside the QR code on your Teacher Micro-credentials page."
OFFER_SCHEME = "openid-credential-offer://"
TX_CODE_REFUSED = "credential.wallet_pin_refused"


@dataclass(frozen=True)
class NewOffer:
    """A fresh offer, with the secrets that exist only now (the database keeps their hashes)."""

    offer_id: int
    pre_authorized_code: str
    tx_code: str | None
    expires_at: datetime
    offer: dict[str, Any]  # the Credential Offer object (§4.1.1)
    link: str  # openid-credential-offer://?credential_offer=...


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_in: int


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def tx_code_digest(pre_authorized_code: str, tx_code: str) -> str:
    return hmac.new(pre_authorized_code.encode("utf-8"), tx_code.encode("utf-8"), hashlib.sha256).hexdigest()


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite returns naive UTC


def offerable_credential(session: Session, teacher: User, public_id: str, *, now: datetime | None = None) -> Credential:
    """The teacher's own credential, if it may go to a wallet: NotFound for anyone else's, Conflict when not
    valid now."""
    now = now or datetime.now(UTC)
    row = session.scalar(select(Credential).where(Credential.public_id == public_id)) if len(public_id) <= 64 else None
    if row is None or row.recipient_user_id != teacher.id:
        raise NotFound("There is no such credential.", code="unknown_credential")
    reason = not_deliverable(row, now)
    if reason:
        raise Conflict(f"This credential is {reason}, so it cannot be added to a wallet.",
                       code="credential_not_active")
    return row


def not_deliverable(row: Credential | None, now: datetime) -> str | None:
    """Why a credential may not go to a wallet now ('revoked', 'suspended', 'expired'), or None."""
    if row is None:
        return "gone"
    if row.status != "active":
        return row.status
    if row.valid_until is not None and aware(row.valid_until) <= now:
        return "expired"
    return None


def create_offer(session: Session, teacher: User, public_id: str, *, credential_issuer: str,
                 with_tx_code: bool = True, now: datetime | None = None) -> NewOffer:
    """A pre-authorized code offer for the teacher's credential; older unused offers stop working."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    row = offerable_credential(session, teacher, public_id, now=now)
    session.execute(update(CredentialOffer)
                    .where(CredentialOffer.credential_row_id == row.id, CredentialOffer.code_used_at.is_(None),
                           CredentialOffer.expires_at > now)
                    .values(expires_at=now))
    code = secrets.token_urlsafe(32)
    pin = f"{secrets.randbelow(10 ** TX_CODE_LENGTH):0{TX_CODE_LENGTH}d}" if with_tx_code else None
    offer = CredentialOffer(credential_row_id=row.id, code_hash=digest(code), created_at=now,
                            tx_code_hash=tx_code_digest(code, pin) if pin else None, expires_at=now + OFFER_LIFETIME)
    session.add(offer)
    session.flush()
    record_event(session, actor=teacher.email, action="credential.wallet_offer_created", subject=row.credential_id,
                 detail={"offer": offer.id, "tx_code": pin is not None})
    document = offer_object(credential_issuer, code, with_tx_code=pin is not None)
    return NewOffer(offer.id, code, pin, offer.expires_at, document, offer_link(document))


def offer_object(credential_issuer: str, code: str, *, with_tx_code: bool) -> dict[str, Any]:
    """The Credential Offer (§4.1.1) for one OpenBadgeCredential."""
    grant: dict[str, Any] = {"pre-authorized_code": code}
    if with_tx_code:
        grant["tx_code"] = {"input_mode": "numeric", "length": TX_CODE_LENGTH, "description": TX_CODE_DESCRIPTION}
    return {"credential_issuer": credential_issuer, "credential_configuration_ids": [CONFIGURATION_ID],
            "grants": {PRE_AUTHORIZED_GRANT: grant}}


def offer_link(offer: dict[str, Any]) -> str:
    """The offer by value (§4.1.2), for a QR code or a same-device link."""
    return f"{OFFER_SCHEME}?credential_offer=" + quote(json.dumps(offer, separators=(",", ":")), safe="")


def qr_svg(text: str) -> str:
    """`text` as an inline SVG QR code (error correction M), on white, scaled by CSS."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4,
                         image_factory=qrcode.image.svg.SvgPathImage)
    code.add_data(text)
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    # Inline in HTML: no fixed size in mm, a white background (scanners need the contrast), hidden from
    # assistive technology (the page's caption and the link say what it is).
    head, _, rest = svg.partition(">")
    head = " ".join(p for p in head.split(" ") if not p.startswith(("width=", "height=")))
    return f'{head} class="qr-code" style="background:#fff" aria-hidden="true" focusable="false">{rest}'


def exchange_code(session: Session, form: Mapping[str, Sequence[str]], *, now: datetime | None = None) -> AccessToken:
    """The Token Request (§6.1) of the pre-authorized code grant; raises InvalidRequest, InvalidGrant or
    UnsupportedGrantType (a wrong PIN with commit=True: it is counted)."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    grant_type, code, pin = _param(form, "grant_type"), _param(form, "pre-authorized_code"), _param(form, "tx_code")
    if not grant_type:
        raise InvalidRequest("grant_type is missing.")
    if grant_type != PRE_AUTHORIZED_GRANT:
        raise UnsupportedGrantType(f"Only the {PRE_AUTHORIZED_GRANT} grant is supported.")
    if not code:
        raise InvalidRequest("pre-authorized_code is missing.")
    offer = session.scalar(select(CredentialOffer).where(CredentialOffer.code_hash == digest(code)).with_for_update())
    if offer is None or not hmac.compare_digest(offer.code_hash, digest(code)):
        raise InvalidGrant("The pre-authorized code is not valid.")
    if offer.code_used_at is not None:
        # RFC 6749 §4.1.2: a code used twice revokes the token it was exchanged for.
        offer.token_expires_at = min(aware(offer.token_expires_at), now) if offer.token_expires_at else now
        raise InvalidGrant("The pre-authorized code was already used.", commit=True)
    failures = _failed_pins(session, offer)
    if failures >= MAX_TX_CODE_FAILURES:
        raise InvalidGrant("The offer was closed after too many wrong PINs: make a new offer.")
    if aware(offer.expires_at) <= now:
        raise InvalidGrant("The pre-authorized code has expired: make a new offer.")
    _check_tx_code(session, offer, code, pin, failures)
    if not_deliverable(session.get(Credential, offer.credential_row_id), now):
        raise InvalidGrant("The offered credential is no longer valid.")
    token = secrets.token_urlsafe(32)
    offer.code_used_at, offer.token_hash = now, digest(token)
    offer.token_expires_at = now + TOKEN_LIFETIME
    return AccessToken(token, int(TOKEN_LIFETIME.total_seconds()))


def _check_tx_code(session: Session, offer: CredentialOffer, code: str, pin: str | None, failures: int) -> None:
    """§6.3: a missing or unexpected PIN is invalid_request, a wrong one invalid_grant (and counted)."""
    if offer.tx_code_hash is None:
        if pin is not None:
            raise InvalidRequest("This offer needs no tx_code, but one was sent.")
        return
    if not pin:
        raise InvalidRequest("This offer needs the PIN (tx_code) shown on the teacher's page.")
    if hmac.compare_digest(offer.tx_code_hash, tx_code_digest(code, pin)):
        return
    credential = session.get(Credential, offer.credential_row_id)
    record_event(session, actor="wallet", action=TX_CODE_REFUSED, subject=_offer_subject(offer),
                 detail={"credential": credential.credential_id if credential else None, "failures": failures + 1})
    left = MAX_TX_CODE_FAILURES - failures - 1
    if left <= 0:
        raise InvalidGrant("Wrong PIN. The offer is now closed: make a new offer.", commit=True)
    raise InvalidGrant(f"Wrong PIN: {left} {'try' if left == 1 else 'tries'} left.", commit=True)


def _failed_pins(session: Session, offer: CredentialOffer) -> int:
    """Wrong PINs sent for this offer, counted from the audit log (read under the offer's row lock)."""
    return session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == TX_CODE_REFUSED, AuditEvent.subject == _offer_subject(offer))) or 0


def _offer_subject(offer: CredentialOffer) -> str:
    return f"credential_offer:{offer.id}"


def _param(form: Mapping[str, Sequence[str]], name: str) -> str | None:
    """One form parameter; RFC 6749 §3.2: parameters must not be repeated."""
    values = form.get(name) or []
    if len(values) > 1:
        raise InvalidRequest(f"{name} is repeated.")
    return values[0] if values else None
