"""Signing keys of a microcred instance: encrypted key store, signer, passphrase and DIDs."""

from __future__ import annotations

from .did import (
    did_document,
    did_web_document_url,
    did_web_from_url,
    issuer_did,
    verification_method_id,
)
from .errors import (
    ActiveKeyExistsError,
    KeyFileError,
    KeyRetiredError,
    KeyRevokedError,
    KeyStoreError,
    NoActiveKeyError,
    PassphraseError,
    UnknownKeyError,
)
from .keyinfo import KeyInfo, KeyStatus
from .passphrase import ENV_PASSPHRASE, ENV_PASSPHRASE_FILE, load_passphrase, passphrase_file
from .signer import Signer
from .store import KeyStore

__all__ = [
    "ENV_PASSPHRASE",
    "ENV_PASSPHRASE_FILE",
    "ActiveKeyExistsError",
    "KeyFileError",
    "KeyInfo",
    "KeyRetiredError",
    "KeyRevokedError",
    "KeyStatus",
    "KeyStore",
    "KeyStoreError",
    "NoActiveKeyError",
    "PassphraseError",
    "Signer",
    "UnknownKeyError",
    "did_document",
    "did_web_document_url",
    "did_web_from_url",
    "issuer_did",
    "load_passphrase",
    "passphrase_file",
    "verification_method_id",
]
