"""Locate (or create) the passphrase that encrypts the private keys at rest."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from .errors import PassphraseError

ENV_PASSPHRASE = "MICROCRED_KEY_PASSPHRASE"
ENV_PASSPHRASE_FILE = "MICROCRED_KEY_PASSPHRASE_FILE"


def passphrase_file(instance_dir: Path) -> Path:
    """Default passphrase file of an instance: <instance>/secrets/key-passphrase."""
    return Path(instance_dir) / "secrets" / "key-passphrase"


def load_passphrase(
    instance_dir: Path, environ: Mapping[str, str], *, create: bool = False
) -> bytes:
    """Passphrase from the env var, the env-named file, or the instance file (maybe created)."""
    value = environ.get(ENV_PASSPHRASE, "")
    if value:
        return value.encode("utf-8")
    named = environ.get(ENV_PASSPHRASE_FILE, "")
    if named:
        # An explicitly configured file that is missing is a mistake, not a reason to fall back.
        return _read_file(Path(named), f"the file named by {ENV_PASSPHRASE_FILE}")
    default = passphrase_file(instance_dir)
    if default.exists():
        return _read_file(default, "the instance passphrase file")
    if create:
        return _create_file(default)
    raise PassphraseError(
        f"No key passphrase is configured. Set {ENV_PASSPHRASE}, or point "
        f"{ENV_PASSPHRASE_FILE} to a file holding it, or create {default} "
        "(`microcred init` creates one)."
    )


def _read_file(path: Path, what: str) -> bytes:
    """Stripped content of a passphrase file; refuses missing files and empty content."""
    try:
        data = path.read_bytes().strip()
    except OSError as exc:
        raise PassphraseError(
            f"Cannot read {what} ({path}): {exc.strerror or 'I/O error'}."
        ) from None
    if not data:
        raise PassphraseError(f"The key passphrase in {what} ({path}) is empty.")
    return data


def _create_file(path: Path) -> bytes:
    """Write a fresh random passphrase to `path` (mode 0600, parent 0700) and return it."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32).encode("ascii")
    # O_EXCL: never overwrite a passphrase another process just created (keys depend on it).
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_file(path, "the instance passphrase file")
    try:
        os.write(fd, value + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    return value
