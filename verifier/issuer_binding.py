"""Whose key signed: binding each verified signing key to the credential's issuer.

VC Data Model 2.0 §8.2 and Controlled Identifiers 1.0 §3.3: a proof shows that the issuer
asserted the credential only when its verification method is one the issuer's own controller
document lists under assertionMethod. For self-certifying identifiers (did:key, did:jwk) that
document is the identifier itself, so the key must BE the issuer's key. For did:web and https
issuers it is the issuer's own document (pinned by the caller, or fetched by the caller's rules).

Each key is BOUND (the issuer's), NOT_ISSUERS (the issuer's document, or identifier, shows it is
someone else's) or UNCONFIRMED (the issuer's document could not be consulted). A credential is
the issuer's when at least one verified proof is BOUND; other valid proofs (an endorser's, a
notary's: Data Integrity §2.1.1 proof sets and §2.1.2 chains) are reported, never required.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from .errors import VerifierError
from .jose import public_key_from_jwk, spki
from .key_resolution import DocumentSource, ResolvedKey, assertion_methods, did_jwk_key, ed25519_spki, is_pinned
from .multikey import decode_public_key
from .report import Check, Problem, Status

Outcome = tuple[Check, list[Problem]]
SELF_CERTIFYING = ("did:key:", "did:jwk:")


class Binding(enum.Enum):
    BOUND = "bound"
    NOT_ISSUERS = "not_issuers"
    UNCONFIRMED = "unconfirmed"


@dataclass(frozen=True)
class KeyBinding:
    key: ResolvedKey
    binding: Binding
    reason: str  # for people: why the key is, is not, or may not be the issuer's


def issuer_id(document: dict[str, Any]) -> str | None:
    issuer = document.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, dict) and isinstance(issuer.get("id"), str):
        return issuer["id"]
    return None


def identifier_spki(identifier: str) -> bytes | None:
    """The key a self-certifying identifier (did:key, did:jwk) is, as SPKI; None if it is none."""
    try:
        if identifier.startswith("did:key:"):
            return ed25519_spki(decode_public_key(identifier[len("did:key:"):].split("#", 1)[0]))
        if identifier.startswith("did:jwk:"):
            jwk = did_jwk_key(identifier.split("#", 1)[0])
            return spki(public_key_from_jwk(jwk, _alg_of(jwk)))
    except VerifierError:
        return None
    return None


def _alg_of(jwk: dict[str, Any]) -> str:
    return {"RSA": "RS256", "OKP": "EdDSA", "EC": "ES256"}.get(str(jwk.get("kty")), "none")


def method_spki(method_id: str, method: dict[str, Any] | None) -> bytes | None:
    """The key material of a listed method (publicKeyMultibase, publicKeyJwk, or a referenced
    did:key / did:jwk), as SPKI; None when it has none this verifier reads."""
    if method is None:
        return identifier_spki(method_id) if method_id.startswith(SELF_CERTIFYING) else None
    try:
        if isinstance(method.get("publicKeyJwk"), dict):
            return spki(public_key_from_jwk(method["publicKeyJwk"], _alg_of(method["publicKeyJwk"])))
        if isinstance(method.get("publicKeyMultibase"), str):
            return ed25519_spki(decode_public_key(method["publicKeyMultibase"]))
    except VerifierError:
        return None
    return None


def bind_to_issuer(issuer: str, key: ResolvedKey, documents: DocumentSource | None) -> KeyBinding:
    """Is `key` (which made a valid signature) the issuer's?"""
    if issuer.startswith(SELF_CERTIFYING) and not is_pinned(documents, issuer):
        own = identifier_spki(issuer)
        if own is not None and key.spki == own:
            return KeyBinding(key, Binding.BOUND, f"the key is {issuer}'s own")
        return KeyBinding(key, Binding.NOT_ISSUERS, f"a {issuer.split(':')[1]} issuer is its own key, and this is "
                          "another key")
    if key.controller == issuer and key.confirmed and not key.controller.startswith(SELF_CERTIFYING):
        return KeyBinding(key, Binding.BOUND, "the issuer's own document lists the key for issuing")
    return _bind_by_document(issuer, key, documents)


def _bind_by_document(issuer: str, key: ResolvedKey, documents: DocumentSource | None) -> KeyBinding:
    if not issuer.startswith(("did:web:", "https://", "http://", *SELF_CERTIFYING)):
        return KeyBinding(key, Binding.UNCONFIRMED, f"the issuer id {issuer} is not a DID or URL whose document "
                          "could list its keys")
    try:
        document = documents(issuer) if documents is not None else None
    except VerifierError as exc:
        return KeyBinding(key, Binding.UNCONFIRMED, f"the issuer's own document could not be fetched ({exc.message})")
    if document is None:
        return KeyBinding(key, Binding.UNCONFIRMED, "the issuer's own document (which would list its keys) "
                          "was not consulted offline")
    if not isinstance(document, dict) or document.get("id") != issuer:
        return KeyBinding(key, Binding.UNCONFIRMED, f"the document given for {issuer} is not that issuer's own")
    for method_id, method in assertion_methods(document, issuer):
        material = method_spki(method_id, method)
        if material is not None and key.spki and material == key.spki:
            return KeyBinding(key, Binding.BOUND, "the issuer's own document lists the key for issuing")
        if material is None and method_id == key.verification_method and key.confirmed:
            return KeyBinding(key, Binding.BOUND, "the issuer's own document lists the key for issuing")
    return KeyBinding(key, Binding.NOT_ISSUERS, "the issuer's own document does not list this key for issuing "
                      "credentials")


def _signer(key: ResolvedKey) -> str:
    return "a key carried in the JWT itself" if key.verification_method == "jwk" else key.verification_method


def check_issuer(document: dict[str, Any], keys: list[ResolvedKey], documents: DocumentSource | None) -> Outcome:
    """issuer: present, and at least one verified signing key is the issuer's own."""
    issuer = issuer_id(document)
    if issuer is None:
        message = "The credential does not say who issued it."
        return Check("issuer", Status.FAILED, message), [Problem("issuer_missing", "No issuer", message)]
    if not keys:
        return Check("issuer", Status.FAILED, f"Issued by {issuer}, but no valid signature proves it."), []
    bindings = [bind_to_issuer(issuer, key, documents) for key in keys]
    bound = [b for b in bindings if b.binding is Binding.BOUND]
    if bound:
        others = [_signer(b.key) for b in bindings if b.binding is not Binding.BOUND]
        also = f" Also signed by {', '.join(others)} (not the issuer: an endorsement, not needed)." if others else ""
        return Check("issuer", Status.PASSED, f"Signed by the issuer, {issuer}.{also}"), []
    first = next((b for b in bindings if b.binding is Binding.UNCONFIRMED), None)
    if first is None:
        first = bindings[0]
        message = (f"The credential names {issuer} as issuer, but it was signed with {_signer(first.key)}, which is "
                   f"not the issuer's key: {first.reason}.")
        return Check("issuer", Status.FAILED, message), [
            Problem("issuer_key_mismatch", "Signed by someone other than the issuer", message)]
    message = (f"Issuer not confirmed: the signature is valid, but nothing shows that {_signer(first.key)} belongs "
               f"to {issuer}: {first.reason}. A valid signature alone proves only that someone signed.")
    return Check("issuer", Status.FAILED, message), [Problem("issuer_not_confirmed", "Issuer not confirmed", message)]
