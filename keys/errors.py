"""Typed exceptions of the key store; each carries a stable `code` and a human `message`."""

from __future__ import annotations


class KeyStoreError(Exception):
    """Base class: `code` is stable (CLI exit reports, API), `message` is for people."""

    code = "key_store_error"
    default_message = "The signing key store reported an error."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class NoActiveKeyError(KeyStoreError):
    """No key is active, so nothing can be signed."""

    code = "no_active_key"
    default_message = (
        "There is no active signing key. Run `microcred init` (first setup) "
        "or `microcred keys generate` to create one."
    )


class ActiveKeyExistsError(KeyStoreError):
    """generate() refused because an active key already exists."""

    code = "active_key_exists"
    default_message = (
        "An active signing key already exists. Use `microcred keys rotate` to replace it."
    )


class UnknownKeyError(KeyStoreError):
    """The key id does not name a key in the store."""

    code = "unknown_key"
    default_message = "No signing key with that id exists. Run `microcred keys list` to see them."


class KeyRevokedError(KeyStoreError):
    """The key was revoked (compromised); it must never sign or be revoked again."""

    code = "key_revoked"
    default_message = "The signing key has been revoked and can no longer be used."


class KeyRetiredError(KeyStoreError):
    """The key was retired by a rotation; it still verifies but no longer signs."""

    code = "key_retired"
    default_message = (
        "The signing key is retired: it still verifies old credentials but only the "
        "active key signs."
    )


class KeyFileError(KeyStoreError):
    """A key file is unreadable, malformed or inconsistent."""

    code = "key_file_invalid"
    default_message = "A key file in the key store is malformed."


class PassphraseError(KeyStoreError):
    """The key passphrase is missing, empty or wrong; messages never contain it."""

    code = "passphrase"
    default_message = (
        "The key passphrase is missing or wrong. Set MICROCRED_KEY_PASSPHRASE, or "
        "MICROCRED_KEY_PASSPHRASE_FILE, or create <instance>/secrets/key-passphrase."
    )
