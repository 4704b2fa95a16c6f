"""The Credential Endpoint (OID4VCI 1.0 §8): the stored credential, to a wallet that proves its key.

An access token, a request for our one configuration and a key proof with a fresh nonce get the
stored credential, exactly as it was signed.

The credential is not re-issued or re-signed for the wallet: it is already signed and names the
teacher by a salted email hash. The wallet's key (the proof's did:key or JWK thumbprint) is recorded
on the offer and in the audit log. The draft-13 request shape ("format" + "proof") is also accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...audit import record_event
from ...models import Credential, CredentialOffer
from .errors import (
    CredentialRequestDenied,
    InvalidCredentialRequest,
    InvalidNonce,
    InvalidProof,
    InvalidToken,
    MissingToken,
    UnknownCredentialConfiguration,
    UnknownCredentialIdentifier,
)
from .metadata import CONFIGURATION_ID
from .nonces import NONCE_LIFETIME, nonce_digest, nonce_issued_at
from .offers import aware, digest, not_deliverable
from .proofs import verify_key_proof


@dataclass(frozen=True)
class Delivery:
    document: str  # the signed credential's JSON text, byte for byte as stored
    holder: str  # the wallet's key: a did:key, or an RFC 9278 JWK thumbprint URI


def deliver_credential(session: Session, *, authorization: str | None, body: Any, credential_issuer: str,
                       secret_key: str, now: datetime | None = None) -> Delivery:
    """Answer one Credential Request; raises the OAuthError that names what is wrong."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    offer = _offer_for_token(session, authorization, now)
    credential = session.get(Credential, offer.credential_row_id)
    reason = not_deliverable(credential, now)
    if reason or credential is None:
        raise CredentialRequestDenied(f"The credential is {reason}: it can no longer be delivered.")
    _check_configuration(body)
    proof = verify_key_proof(_proof_jwt(body), audience=credential_issuer, now=now)
    _spend_nonce(offer, proof.nonce, secret_key, now)
    offer.holder, offer.delivered_at = proof.holder[:500], now
    record_event(session, actor=credential.recipient_email, action="credential.sent_to_wallet",
                 subject=credential.credential_id, detail={"offer": offer.id, "holder": proof.holder})
    return Delivery(credential.document, proof.holder)


def _offer_for_token(session: Session, authorization: str | None, now: datetime) -> CredentialOffer:
    """The offer whose access token is presented (RFC 6750 §2.1), locked for this request."""
    if not authorization:
        raise MissingToken("An access token is required (Authorization: Bearer ...).")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise InvalidToken("The Authorization header must be: Bearer <access token>.")
    offer = session.scalar(select(CredentialOffer).where(CredentialOffer.token_hash == digest(token))
                           .with_for_update())
    if offer is None or offer.token_expires_at is None or aware(offer.token_expires_at) <= now:
        raise InvalidToken("The access token is not valid or has expired.")
    return offer


def _check_configuration(body: Any) -> None:
    """§8.2: credential_configuration_id (we return no credential_identifiers); draft 13: format."""
    if not isinstance(body, dict):
        raise InvalidCredentialRequest("The request body must be a JSON object.")
    if "credential_identifier" in body:
        if "credential_configuration_id" in body:
            raise InvalidCredentialRequest("Send credential_configuration_id or credential_identifier, not both.")
        raise UnknownCredentialIdentifier(f"This issuer gives out no credential identifiers: send "
                                          f"credential_configuration_id {CONFIGURATION_ID}.")
    if "credential_configuration_id" in body:
        if body["credential_configuration_id"] != CONFIGURATION_ID:
            raise UnknownCredentialConfiguration(f"Unknown credential configuration: this issuer offers "
                                                 f"{CONFIGURATION_ID}.")
        return
    if "format" in body:  # draft 13
        definition = body.get("credential_definition")
        types = definition.get("type") if isinstance(definition, dict) else None
        if body["format"] != "ldp_vc" or (types is not None and (
                not isinstance(types, list) or "OpenBadgeCredential" not in types)):
            raise UnknownCredentialConfiguration("This issuer offers OpenBadgeCredentials in the ldp_vc format only.")
        return
    raise InvalidCredentialRequest("credential_configuration_id is missing.")


def _proof_jwt(body: dict[str, Any]) -> Any:
    """The one `jwt` key proof of the request (§8.2 `proofs`; draft 13 `proof`)."""
    proofs, proof = body.get("proofs"), body.get("proof")
    if proofs is not None and proof is not None:
        raise InvalidCredentialRequest("Send proofs or proof, not both.")
    if proofs is not None:
        if not isinstance(proofs, dict) or len(proofs) != 1:
            raise InvalidProof("proofs must hold exactly one proof type.")
        [(kind, values)] = proofs.items()
        if kind != "jwt":
            raise InvalidProof(f"The proof type {kind!r} is not supported: use jwt.")
        if not isinstance(values, list) or not values:
            raise InvalidProof("proofs.jwt must be a non-empty array of JWTs.")
        if len(values) > 1:
            raise InvalidCredentialRequest("This issuer delivers one credential per request: send one key proof.")
        return values[0]
    if proof is not None:
        if not isinstance(proof, dict) or proof.get("proof_type") != "jwt":
            raise InvalidProof("proof.proof_type must be jwt.")
        return proof.get("jwt")
    raise InvalidProof("The request has no key proof: send proofs.jwt with a proof JWT.")


def _spend_nonce(offer: CredentialOffer, nonce: str, secret_key: str, now: datetime) -> None:
    """Single use: the offer accepts only a nonce issued after the last one it accepted."""
    expires = nonce_issued_at(nonce, secret_key, now=now) + NONCE_LIFETIME
    if offer.c_nonce_expires_at is not None and expires <= aware(offer.c_nonce_expires_at):
        raise InvalidNonce("This nonce was already used (or a newer one was): get a new one from the nonce endpoint.")
    offer.c_nonce, offer.c_nonce_expires_at = nonce_digest(nonce), expires
