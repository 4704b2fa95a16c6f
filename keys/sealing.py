"""Private keys at rest: AES-256-GCM under a key derived from the passphrase with scrypt.

Format (one ASCII string): "scrypt-aes256gcm$N$r$p$salt$nonce$ciphertext", base64url parts.
scrypt is memory-hard, so a human-chosen passphrase resists guessing far better than the
PBKDF2 (2048 rounds) of PKCS#8 "best available" encryption. The key id is bound as
associated data, so a sealed key cannot be swapped into another key's file.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

SCHEME = "scrypt-aes256gcm"
N, R, P = 2**15, 8, 1


class UnsealError(ValueError):
    """Wrong passphrase, or a damaged or foreign sealed key."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _kek(passphrase: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase)


def seal(secret: bytes, passphrase: bytes, associated: str) -> str:
    """Encrypt `secret` (the 32-byte Ed25519 seed) for storage."""
    salt, nonce = os.urandom(16), os.urandom(12)
    ciphertext = AESGCM(_kek(passphrase, salt, N, R, P)).encrypt(nonce, secret, associated.encode())
    return "$".join([SCHEME, str(N), str(R), str(P), _b64(salt), _b64(nonce), _b64(ciphertext)])


def unseal(sealed: str, passphrase: bytes, associated: str) -> bytes:
    """Decrypt a sealed secret; raises UnsealError."""
    try:
        scheme, n, r, p, salt, nonce, ciphertext = sealed.split("$")
        if scheme != SCHEME:
            raise UnsealError("unknown sealing scheme")
        kek = _kek(passphrase, _unb64(salt), int(n), int(r), int(p))
        return AESGCM(kek).decrypt(_unb64(nonce), _unb64(ciphertext), associated.encode())
    except (ValueError, InvalidTag) as exc:
        raise UnsealError("the sealed key cannot be opened") from exc
