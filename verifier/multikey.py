"""Multibase base58btc and Ed25519 Multikey encodings (Controlled Identifiers 1.0, did:key)."""

from __future__ import annotations

from .errors import KeyFormatError

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {c: i for i, c in enumerate(_ALPHABET)}

# Multicodec varint prefixes: ed25519-pub (0xed) and ed25519-priv (0x1300).
ED25519_PUB_PREFIX = b"\xed\x01"
ED25519_PRIV_PREFIX = b"\x80\x26"


def b58encode(data: bytes) -> str:
    """Encode bytes as Bitcoin base58 (no multibase prefix)."""
    zeros = len(data) - len(data.lstrip(b"\0"))
    num = int.from_bytes(data, "big")
    out = []
    while num:
        num, rem = divmod(num, 58)
        out.append(_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    """Decode Bitcoin base58; raises KeyFormatError on a character outside the alphabet."""
    num = 0
    for ch in text:
        try:
            num = num * 58 + _INDEX[ch]
        except KeyError:
            raise KeyFormatError(f"'{ch}' is not a base58btc character") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = num.to_bytes((num.bit_length() + 7) // 8, "big") if num else b""
    return b"\0" * zeros + body


def multibase_encode(data: bytes) -> str:
    """Multibase base58btc: 'z' followed by base58btc."""
    return "z" + b58encode(data)


# Keys (34 bytes) and signatures (64 bytes) are under 100 characters; base58 decoding is
# quadratic, so longer input is refused before any work is done.
MAX_MULTIBASE_LENGTH = 256


def multibase_decode(text: str) -> bytes:
    """Decode a base58btc multibase string ('z' prefix only, at most 256 characters)."""
    if not isinstance(text, str) or not text.startswith("z") or len(text) < 2:
        raise KeyFormatError("expected a base58btc multibase value starting with 'z'")
    if len(text) > MAX_MULTIBASE_LENGTH:
        raise KeyFormatError(f"the multibase value is {len(text)} characters; keys and signatures are far shorter")
    return b58decode(text[1:])


def encode_public_key(raw: bytes) -> str:
    """Ed25519 public key (32 bytes) as publicKeyMultibase: z + base58btc(0xed01 || key)."""
    if len(raw) != 32:
        raise KeyFormatError("an Ed25519 public key is 32 bytes")
    return multibase_encode(ED25519_PUB_PREFIX + raw)


def decode_public_key(multibase: str) -> bytes:
    """Raw 32-byte Ed25519 key from publicKeyMultibase; raises KeyFormatError otherwise."""
    data = multibase_decode(multibase)
    if not data.startswith(ED25519_PUB_PREFIX) or len(data) != 34:
        raise KeyFormatError("the key is not an Ed25519 Multikey (multicodec 0xed01, 32 bytes)")
    return data[2:]


def did_key(public_multibase: str) -> str:
    """The did:key identifier for an Ed25519 Multikey."""
    return "did:key:" + public_multibase


def did_key_verification_method(public_multibase: str) -> str:
    """The verification method id of a did:key (did:key:z...#z...)."""
    return f"did:key:{public_multibase}#{public_multibase}"
