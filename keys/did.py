"""did:web / did:key identifiers and DID documents for the issuer's keys."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from verifier.multikey import did_key, did_key_verification_method

from .keyinfo import KeyInfo

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]
# DID syntax: idchar = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded.
_SEGMENT_RE = re.compile(r"^(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})+$")
_HOST_RE = re.compile(r"^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def did_web_from_url(base_url: str) -> str:
    """did:web for an http(s) base URL: host, %3A-encoded port, path segments joined by ':'."""
    parts = urlsplit(base_url.strip())
    if parts.scheme not in _DEFAULT_PORTS:
        raise ValueError(f"A did:web needs an https:// URL (http:// for local use): {base_url!r}")
    if "?" in base_url or "#" in base_url:
        raise ValueError(f"A did:web base URL must not have a query or fragment: {base_url!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("A did:web base URL must not contain a user name or password.")
    try:
        host, port = parts.hostname or "", parts.port
    except ValueError:
        raise ValueError(f"The base URL has an invalid port: {base_url!r}") from None
    if not _HOST_RE.match(host):
        raise ValueError(f"A did:web needs a DNS host name or IPv4 address: {base_url!r}")
    method_id = host
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        method_id += f"%3A{port}"
    for segment in (s for s in parts.path.split("/") if s):
        if segment in (".", "..") or not _SEGMENT_RE.match(segment):
            raise ValueError(f"The base URL path segment {segment!r} cannot be used in a did:web.")
        method_id += ":" + segment
    return "did:web:" + method_id


def did_web_document_url(did: str, *, scheme: str = "https") -> str:
    """URL of a did:web's DID document (/.well-known/did.json without a path)."""
    if scheme not in _DEFAULT_PORTS:
        raise ValueError("scheme must be 'https' (or 'http' for local development)")
    if not did.startswith("did:web:") or any(c in did for c in "/?#"):
        raise ValueError(f"Not a did:web identifier (without fragment): {did!r}")
    host, *path = did[len("did:web:") :].split(":")
    name, _, port = host.replace("%3a", "%3A").partition("%3A")
    if not _HOST_RE.match(name.lower()) or (port and not port.isdigit()):
        raise ValueError(f"The did:web host is not valid: {did!r}")
    if any(not _SEGMENT_RE.match(s) or s in (".", "..") for s in path):
        raise ValueError(f"The did:web path is not valid: {did!r}")
    authority = f"{name}:{port}" if port else name
    suffix = "/".join(path) + "/did.json" if path else ".well-known/did.json"
    return f"{scheme}://{authority}/{suffix}"


def issuer_did(base_url: str | None, active: KeyInfo) -> str:
    """did:web of the public base URL, else the did:key of the active key."""
    if base_url:
        return did_web_from_url(base_url)
    return did_key(active.public_key_multibase)


def verification_method_id(did: str, key: KeyInfo) -> str:
    """Verification method id of `key` within `did` (did:web or did:key)."""
    if did.startswith("did:web:"):
        return f"{did}#{key.key_id}"
    if did.startswith("did:key:"):
        if did != did_key(key.public_key_multibase):
            raise ValueError(f"Key {key.key_id} is not the key of {did}.")
        return did_key_verification_method(key.public_key_multibase)
    raise ValueError(f"Unsupported DID method (expected did:web or did:key): {did!r}")


def did_document(did: str, keys: Sequence[KeyInfo]) -> dict[str, Any]:
    """DID document listing the non-revoked keys as Multikey assertion methods."""
    if did.startswith("did:key:"):
        usable = [k for k in keys if did_key(k.public_key_multibase) == did]
    elif did.startswith("did:web:"):
        usable = list(keys)
    else:
        raise ValueError(f"Unsupported DID method (expected did:web or did:key): {did!r}")
    # Revoked keys are left out entirely, so signatures made with them stop verifying.
    usable = [k for k in usable if k.status != "revoked"]
    methods = [
        {
            "id": verification_method_id(did, k),
            "type": "Multikey",
            "controller": did,
            "publicKeyMultibase": k.public_key_multibase,
        }
        for k in usable
    ]
    return {
        "@context": list(DID_CONTEXTS),
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }
