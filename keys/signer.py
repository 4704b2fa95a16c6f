"""A signing handle that uses a private key without ever exposing it."""

from __future__ import annotations

from typing import NoReturn

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from verifier.multikey import encode_public_key


class Signer:
    """Ed25519 signer bound to a key id; the private key cannot be read, copied or pickled."""

    # __slots__ keeps the private key out of vars()/__dict__ dumps (debuggers, loggers).
    __slots__ = ("__private", "key_id", "public_key_multibase")

    def __init__(self, key_id: str, private_key: Ed25519PrivateKey) -> None:
        """Wrap `private_key` under `key_id`."""
        if not isinstance(private_key, Ed25519PrivateKey):
            raise TypeError("Signer needs an Ed25519 private key")
        self.__private = private_key
        self.key_id = key_id
        self.public_key_multibase = encode_public_key(self.public_key_bytes())

    def sign(self, data: bytes) -> bytes:
        """Ed25519 signature (64 bytes) over `data`."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("Signer.sign() takes bytes")
        return self.__private.sign(bytes(data))

    def public_key_bytes(self) -> bytes:
        """Raw 32-byte Ed25519 public key."""
        return self.__private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id!r}, public_key_multibase={self.public_key_multibase!r})"

    def _refuse(self, *args: object) -> NoReturn:
        raise TypeError("Signer holds a private key and cannot be pickled or copied")

    __reduce__ = _refuse
    __reduce_ex__ = _refuse
    __getstate__ = _refuse
    __copy__ = _refuse
    __deepcopy__ = _refuse
