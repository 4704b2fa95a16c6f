"""Finding the public key named by a proof's verificationMethod, without the network.

did:key is self-certifying. did:web and https controllers are looked up through an
injected `documents` function (the issuer's own DID document, or a fetcher with the
network rules of the caller); the library itself never fetches anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import KeyFormatError, KeyResolutionError, VerifierError
from .multikey import decode_public_key

# Given a controller id (a DID or URL), return its document, or None when unavailable.
DocumentSource = Callable[[str], "dict[str, Any] | None"]


@dataclass(frozen=True)
class ResolvedKey:
    verification_method: str
    controller: str
    public_key: bytes
    # True when the key is bound to the controller: a did:key, or listed in the
    # controller's own document. False when only read from the method id's fragment.
    confirmed: bool


def resolve_verification_method(vm: Any, documents: DocumentSource | None = None) -> ResolvedKey:
    """Resolve a verificationMethod id to an Ed25519 key; raises KeyResolutionError."""
    if not isinstance(vm, str) or not vm:
        raise KeyResolutionError("The proof does not name a verification method.")
    controller, _, fragment = vm.partition("#")
    if ":" not in controller:
        raise KeyResolutionError(f"The verification method {vm!r} is not a URL or DID.")
    if controller.startswith("did:key:"):
        resolved = _did_key(vm, controller, fragment)
        # A did:key needs no document, but a caller that knows better (the issuer's
        # own record of a key revoked as compromised) may supply one.
        document = documents(controller) if documents else None
        return resolved if document is None else _from_document(vm, controller, document)
    scheme = controller.split(":", 1)[0]
    if not (controller.startswith("did:web:") or scheme in ("http", "https")):
        raise KeyResolutionError(
            f"The verification method {vm!r} uses a method this verifier cannot resolve "
            "(supported: did:key, did:web, https)."
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


def _from_document(vm: str, controller: str, document: dict[str, Any]) -> ResolvedKey:
    """Find vm in the controller document; it must be an assertionMethod."""
    def absolute(ref: Any) -> Any:
        return controller + ref if isinstance(ref, str) and ref.startswith("#") else ref

    methods = document.get("verificationMethod") or []
    assertion = document.get("assertionMethod") or []
    listed = {absolute(m if isinstance(m, str) else m.get("id")) for m in assertion if isinstance(m, (str, dict))}
    embedded = [m for m in assertion if isinstance(m, dict)]
    for method in [*embedded, *[m for m in methods if isinstance(m, dict)]]:
        if absolute(method.get("id")) != vm:
            continue
        if vm not in listed:
            break
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
