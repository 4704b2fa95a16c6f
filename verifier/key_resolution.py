"""Finding the public key named by a proof's verificationMethod, without the network.

did:key and did:jwk are self-certifying: the identifier is the key. did:web and https
controllers are looked up through an injected `documents` function (the issuer's own DID
document, or a fetcher with the network rules of the caller); the library itself never
fetches anything. `pinned_documents` lets a caller fix the documents of issuers it knows.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from .errors import KeyFormatError, KeyResolutionError, VerifierError
from .multikey import decode_public_key, did_key_verification_method

# Given a controller id (a DID or URL), return its document, or None when unavailable.
DocumentSource = Callable[[str], "dict[str, Any] | None"]


def ed25519_spki(raw: bytes) -> bytes:
    """DER SubjectPublicKeyInfo of a raw Ed25519 key (to compare with keys from JWKs)."""
    return ed25519.Ed25519PublicKey.from_public_bytes(raw).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


@dataclass(frozen=True)
class ResolvedKey:
    verification_method: str
    controller: str
    public_key: bytes  # raw Ed25519 (Data Integrity); b"" for a JOSE key of another type
    # True when the key is bound to the controller: a did:key / did:jwk, or listed in the
    # controller's own document. False when only read from the method id's fragment or a JWT header.
    confirmed: bool
    spki: bytes = b""  # the key as DER SubjectPublicKeyInfo, whatever its type

    def __post_init__(self) -> None:
        if not self.spki and len(self.public_key) == 32:
            object.__setattr__(self, "spki", ed25519_spki(self.public_key))


def resolve_verification_method(vm: Any, documents: DocumentSource | None = None) -> ResolvedKey:
    """Resolve a verificationMethod id to an Ed25519 key; raises KeyResolutionError."""
    if not isinstance(vm, str) or not vm:
        raise KeyResolutionError("The proof does not name a verification method.")
    controller, _, fragment = vm.partition("#")
    if ":" not in controller:
        raise KeyResolutionError(f"The verification method {vm!r} is not a URL or DID.")
    if controller.startswith(("did:key:", "did:jwk:")):
        own = _did_key if controller.startswith("did:key:") else _did_jwk
        resolved = own(vm, controller, fragment)
        # A did:key needs no document, but a caller that knows better (the issuer's own record
        # of a key revoked as compromised, a pinned document) may supply one.
        document = documents(controller) if documents else None
        return resolved if document is None else _from_document(vm, controller, document)
    scheme = controller.split(":", 1)[0]
    if not (controller.startswith("did:web:") or scheme in ("http", "https")):
        raise KeyResolutionError(
            f"The verification method {vm!r} uses a method this verifier cannot resolve "
            "(supported: did:key, did:jwk, did:web, https)."
        )
    unavailable: VerifierError | None = None
    try:
        document = documents(controller) if documents else None
    except VerifierError as exc:  # e.g. the document could not be fetched: as if offline
        document, unavailable = None, exc
    if document is not None:
        return _from_document(vm, controller, document)
    try:
        key = decode_public_key(fragment)
    except KeyFormatError:
        if unavailable is not None:
            raise unavailable from None
        raise KeyResolutionError(
            f"The key {vm!r} cannot be resolved offline: its controller's document is not "
            "available and the id does not carry the key."
        ) from None
    # The fragment proves only that whoever holds this key signed; issuer_binding says whose it is.
    return ResolvedKey(vm, controller, key, confirmed=False)


def _did_key(vm: str, controller: str, fragment: str) -> ResolvedKey:
    multibase = controller[len("did:key:"):]
    if fragment and fragment != multibase:
        raise KeyResolutionError(f"The did:key verification method {vm!r} names a different key.")
    try:
        key = decode_public_key(multibase)
    except KeyFormatError as exc:
        raise KeyResolutionError(f"The did:key {controller!r} is not an Ed25519 key: {exc.message}") from None
    return ResolvedKey(vm, controller, key, confirmed=True)


def did_jwk_key(did: str) -> dict[str, Any]:
    """The public JWK a did:jwk encodes (did:jwk method: base64url of the JWK's JSON)."""
    encoded = did[len("did:jwk:"):]
    try:
        jwk = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise KeyResolutionError(f"The did:jwk {did[:60]!r} does not encode a JWK.") from None
    if not isinstance(jwk, dict) or not isinstance(jwk.get("kty"), str) or "d" in jwk or "k" in jwk:
        raise KeyResolutionError("The did:jwk does not encode a public JWK.")
    return jwk


def _did_jwk(vm: str, controller: str, fragment: str) -> ResolvedKey:
    if fragment not in ("", "0"):
        raise KeyResolutionError(f"A did:jwk has one verification method, #0, not {vm!r}.")
    jwk = did_jwk_key(controller)
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
        raise KeyResolutionError(f"The did:jwk {controller[:60]!r} is not an Ed25519 key.")
    x = jwk["x"]
    try:
        raw = base64.urlsafe_b64decode(x + "=" * (-len(x) % 4))
        return ResolvedKey(vm, controller, raw, confirmed=True, spki=ed25519_spki(raw))
    except (binascii.Error, ValueError):
        raise KeyResolutionError(f"The did:jwk {controller[:60]!r} is not an Ed25519 key.") from None


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def absolute(controller: str, ref: Any) -> Any:
    """A method id relative to its document ("#key-1") made absolute."""
    return controller + ref if isinstance(ref, str) and ref.startswith("#") else ref


def assertion_methods(document: dict[str, Any], controller: str) -> list[tuple[str, dict[str, Any] | None]]:
    """(id, method or None) for every method the document lists under assertionMethod; a
    reference is looked up in verificationMethod (None: listed, but described elsewhere)."""
    if not isinstance(document, dict):
        return []
    described = {absolute(controller, m.get("id")): m for m in _as_list(document.get("verificationMethod"))
                 if isinstance(m, dict)}
    listed: list[tuple[str, dict[str, Any] | None]] = []
    for item in _as_list(document.get("assertionMethod")):
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            listed.append((absolute(controller, item["id"]), item))
        elif isinstance(item, str):
            ref = absolute(controller, item)
            listed.append((ref, described.get(ref)))
    return listed


def _from_document(vm: str, controller: str, document: dict[str, Any]) -> ResolvedKey:
    """Find vm in the controller document; it must be an assertionMethod."""
    for method_id, method in assertion_methods(document, controller):
        if method_id != vm or method is None:
            continue
        if method.get("controller", controller) != controller:
            raise KeyResolutionError(f"The key {vm!r} is controlled by someone other than {controller!r}.")
        try:
            key = decode_public_key(method.get("publicKeyMultibase", ""))
        except KeyFormatError as exc:
            raise KeyResolutionError(f"The key {vm!r} is not an Ed25519 Multikey: {exc.message}") from None
        return ResolvedKey(vm, controller, key, confirmed=True)
    raise KeyResolutionError(
        f"The issuer's document for {controller!r} does not list {vm!r} as a key for issuing "
        "credentials (the key is unknown, or was revoked).",
        code="key_not_in_document",
    )


def did_key_document(did: str) -> dict[str, Any]:
    """The DID document of an Ed25519 did:key (its one key, for assertion): what a caller pins
    for a did:key issuer it knows (an empty assertionMethod pins a revoked key)."""
    multibase = did[len("did:key:"):]
    method = did_key_verification_method(multibase)
    return {"id": did, "verificationMethod": [{"id": method, "type": "Multikey", "controller": did,
                                               "publicKeyMultibase": multibase}], "assertionMethod": [method]}


def pinned_documents(known: Mapping[str, dict[str, Any]] | None,
                     documents: DocumentSource | None) -> DocumentSource | None:
    """A DocumentSource answering for every id in `known` from `known` only (never asking
    `documents`, never the network), and for every other id from `documents`."""
    if not known:
        return documents
    pins = dict(known)

    def source(controller: str) -> dict[str, Any] | None:
        if controller in pins:
            return pins[controller]
        return documents(controller) if documents is not None else None

    source.pins = pins  # type: ignore[attr-defined]
    return source


def is_pinned(documents: DocumentSource | None, controller: str) -> bool:
    return controller in getattr(documents, "pins", {})


def remembered(documents: DocumentSource | None) -> DocumentSource | None:
    """The same source, asked at most once per id (answers and errors) for one verification:
    resolving a key and binding it to its issuer read the same document."""
    if documents is None or getattr(documents, "remembers", False):
        return documents
    seen: dict[str, Any] = {}

    def source(controller: str) -> dict[str, Any] | None:
        if controller not in seen:
            try:
                seen[controller] = documents(controller)
            except VerifierError as exc:
                seen[controller] = exc
        found = seen[controller]
        if isinstance(found, VerifierError):
            raise found
        return found

    source.remembers = True  # type: ignore[attr-defined]
    source.pins = getattr(documents, "pins", {})  # type: ignore[attr-defined]
    return source
