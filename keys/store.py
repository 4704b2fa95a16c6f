"""File-backed Ed25519 key store: one JSON file per key, private keys encrypted at rest."""

from __future__ import annotations

import builtins  # KeyStore.list shadows the builtin inside the class body
import contextlib
import fcntl
import json
import os
import secrets
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .errors import (
    ActiveKeyExistsError,
    KeyFileError,
    KeyRetiredError,
    KeyRevokedError,
    NoActiveKeyError,
    PassphraseError,
    UnknownKeyError,
)
from .keyinfo import KEY_ID_RE, KeyInfo, KeyStatus, parse_key_record, utc_now
from .passphrase import ENV_PASSPHRASE, ENV_PASSPHRASE_FILE
from .sealing import UnsealError, seal, unseal
from .signer import Signer

FILE_FORMAT = 1


class KeyStore:
    """Keys in `directory/<key_id>.json`; safe to share between processes."""

    def __init__(self, directory: Path, passphrase: bytes | None) -> None:
        """Open (lazily create) the store; `passphrase` encrypts the private keys.

        Use `KeyStore.public(directory)` to read public key data without any secret.
        """
        if passphrase is not None and not passphrase:
            raise PassphraseError(
                f"The key passphrase is empty. Set {ENV_PASSPHRASE} or {ENV_PASSPHRASE_FILE}."
            )
        self.directory = Path(directory)
        self.__passphrase = bytes(passphrase) if passphrase is not None else None
        # Parsed files keyed by name, validated by (inode, mtime, size): os.replace
        # always creates a new inode, so another process's write is always noticed.
        self._parsed: dict[str, tuple[tuple[int, int, int], KeyInfo, str | None]] = {}
        # Decrypted signers per key id, so the scrypt unsealing does not run per signature.
        self._signers: dict[str, Signer] = {}

    @classmethod
    def public(cls, directory: Path) -> KeyStore:
        """A read-only view (list, get, active, verification keys): no passphrase, no signing."""
        return cls(directory, None)

    def _secret(self) -> bytes:
        if self.__passphrase is None:
            raise PassphraseError(
                f"This key store was opened without a passphrase. Set {ENV_PASSPHRASE} or {ENV_PASSPHRASE_FILE}."
            )
        return self.__passphrase

    def __repr__(self) -> str:
        return f"KeyStore(directory={str(self.directory)!r})"

    # ----- reading (re-reads changed files on every call) -----

    def list(self) -> list[KeyInfo]:
        """All keys, oldest first."""
        try:
            names = [e.name for e in os.scandir(self.directory)]
        except FileNotFoundError:
            return []
        found = []
        for name in names:
            key_id = name.removesuffix(".json")
            if key_id == name or not KEY_ID_RE.match(key_id):
                continue  # lock file, temp files of in-flight writes, stray files
            record = self._read(key_id)
            if record is not None:
                found.append(record[0])
        return sorted(found, key=lambda k: (k.created, k.key_id))

    def get(self, key_id: str) -> KeyInfo:
        """Metadata of one key; UnknownKeyError if absent."""
        record = self._read(key_id) if KEY_ID_RE.match(str(key_id)) else None
        if record is None:
            raise UnknownKeyError(f"No signing key with id {key_id!r} exists.")
        return record[0]

    def active(self) -> KeyInfo:
        """The key that signs now; NoActiveKeyError if none."""
        actives = [k for k in self.list() if k.status == "active"]
        if not actives:
            raise NoActiveKeyError()
        # Newest wins: a crash mid-rotation may leave the old key still marked active.
        return actives[-1]

    def verification_keys(self) -> builtins.list[KeyInfo]:
        """Keys that still verify credentials: active and retired, never revoked."""
        return [k for k in self.list() if k.status != "revoked"]

    def signer(self, key_id: str | None = None) -> Signer:
        """Signer for the active key (or `key_id`, which must be the active one)."""
        info = self.active() if key_id is None else self.get(key_id)
        if info.status == "revoked":
            raise KeyRevokedError(f"Key {info.key_id} is revoked and must never sign.")
        if info.status == "retired":
            raise KeyRetiredError(
                f"Key {info.key_id} is retired; only the active key signs "
                "(`microcred keys list` shows it)."
            )
        cached = self._signers.get(info.key_id)
        if cached is not None and cached.public_key_multibase == info.public_key_multibase:
            return cached
        signer = self._decrypt(info)
        self._signers[info.key_id] = signer
        return signer

    # ----- mutations (serialized across processes by flock) -----

    def generate(self) -> KeyInfo:
        """Create the first active key; ActiveKeyExistsError if one exists."""
        self._secret()  # changing keys needs the passphrase
        with self._locked():
            keys = self.list()
            if any(k.status == "active" for k in keys):
                raise ActiveKeyExistsError()
            return self._create_active(keys)

    def ensure_active(self) -> KeyInfo:
        """The active key, generated if there is none (idempotent)."""
        self._secret()  # changing keys needs the passphrase
        with self._locked():
            with contextlib.suppress(NoActiveKeyError):
                return self.active()
            return self._create_active(self.list())

    def rotate(self) -> tuple[KeyInfo, KeyInfo | None]:
        """Activate a new key and retire the previous one; returns (new, retired)."""
        self._secret()  # changing keys needs the passphrase
        with self._locked():
            keys = self.list()
            previous = [k for k in keys if k.status == "active"]
            # New key first: readers between the two writes still find an active key.
            new = self._create_active(keys)
            retired = [self._mark(k, "retired") for k in previous]
            return new, (retired[-1] if retired else None)

    def revoke(self, key_id: str, reason: str) -> KeyInfo:
        """Mark a key compromised; revoking the active key first rotates to a new one."""
        reason = reason.strip() if isinstance(reason, str) else ""
        if not reason:
            raise ValueError("A revocation reason is required (for example 'key leaked').")
        self._secret()  # changing keys needs the passphrase
        with self._locked():
            info = self.get(key_id)
            if info.status == "revoked":
                raise KeyRevokedError(f"Key {key_id} was already revoked.")
            if info.status == "active":
                keys = self.list()
                self._create_active(keys)
                for other in keys:
                    if other.status == "active" and other.key_id != key_id:
                        self._mark(other, "retired")
            return self._mark(info, "revoked", reason)

    # ----- internals -----

    def _read(self, key_id: str) -> tuple[KeyInfo, str | None] | None:
        """Parsed key file (cached while unchanged), or None if it does not exist."""
        name = f"{key_id}.json"
        path = self.directory / name
        try:
            st = path.stat()
        except FileNotFoundError:
            self._parsed.pop(name, None)
            return None
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        cached = self._parsed.get(name)
        if cached is not None and cached[0] == stamp:
            return cached[1], cached[2]
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise KeyFileError(f"Key file {name} cannot be read: {exc}.") from None
        info, pem = parse_key_record(data, key_id)
        self._parsed[name] = (stamp, info, pem)
        return info, pem

    def _decrypt(self, info: KeyInfo) -> Signer:
        """Unseal a key into a Signer; PassphraseError on a wrong passphrase."""
        record = self._read(info.key_id)
        if record is None or record[1] is None:
            raise KeyFileError(f"Key file {info.key_id}.json holds no private key.")
        try:
            private = Ed25519PrivateKey.from_private_bytes(
                unseal(record[1], self._secret(), info.key_id)
            )
        except (UnsealError, ValueError):
            # Never echo the passphrase; say where it comes from instead.
            raise PassphraseError(
                f"Cannot decrypt signing key {info.key_id}: the key passphrase is wrong "
                f"(or the key file is damaged). Check {ENV_PASSPHRASE}, "
                f"{ENV_PASSPHRASE_FILE} or <instance>/secrets/key-passphrase."
            ) from None
        if not isinstance(private, Ed25519PrivateKey):
            raise KeyFileError(f"Key file {info.key_id}.json does not hold an Ed25519 key.")
        signer = Signer(info.key_id, private)
        if signer.public_key_multibase != info.public_key_multibase:
            raise KeyFileError(
                f"Key file {info.key_id}.json: the public key does not match the private key."
            )
        return signer

    def _create_active(self, existing: builtins.list[KeyInfo]) -> KeyInfo:
        """Generate, encrypt and write a new active key (caller holds the lock)."""
        created = utc_now()
        if existing:
            # Strictly increasing creation times keep list() order == creation order.
            created = max(created, max(k.created for k in existing) + timedelta(microseconds=1))
        taken = {k.key_id for k in existing}
        key_id = _new_key_id(created)
        while key_id in taken:
            key_id = _new_key_id(created)
        private = Ed25519PrivateKey.generate()
        seed = private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        pem = seal(seed, self._secret(), key_id)
        signer = Signer(key_id, private)
        info = KeyInfo(key_id, signer.public_key_multibase, "active", created)
        self._write(info, pem)
        self._signers[key_id] = signer  # just generated: no need to decrypt it again
        return info

    def _mark(self, info: KeyInfo, status: KeyStatus, reason: str | None = None) -> KeyInfo:
        """Rewrite a key file with a new status (caller holds the lock)."""
        now = utc_now()
        record = self._read(info.key_id)
        pem = record[1] if record else None
        if status == "retired":
            new = replace(info, status=status, retired_at=now)
        else:
            new = replace(info, status=status, revoked_at=now, revocation_reason=reason)
            pem = None  # a compromised key never signs again: drop even the encrypted copy
        self._write(new, pem)
        self._signers.pop(info.key_id, None)
        return new

    def _write(self, info: KeyInfo, pem: str | None) -> None:
        """Atomically replace `<key_id>.json` (0600 temp file, fsync, os.replace)."""
        body = {"format": FILE_FORMAT, "type": "Ed25519", **info.as_dict()}
        body["encrypted_private_key"] = pem
        text = json.dumps(body, indent=2) + "\n"
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{info.key_id}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.directory / f"{info.key_id}.json")
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_dir(self.directory)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Exclusive flock on `directory/.lock` for the duration of a mutation."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the lock


def _new_key_id(created: datetime) -> str:
    """key-YYYYMMDD-<8 random hex>."""
    return f"key-{created:%Y%m%d}-{secrets.token_hex(4)}"


def _fsync_dir(directory: Path) -> None:
    """Persist a rename by syncing its directory entry."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
