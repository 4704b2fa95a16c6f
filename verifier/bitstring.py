"""The bitstring of a W3C Bitstring Status List v1.0: encoding, reading and writing entries.

§2.2 encodedList: a multibase base64url ('u', no padding) encoding of the GZIP-compressed
bitstring, at least 16 KB. §6.1 Bitstring Encoding: index 0 is the left-most bit of the
bitstring (the most significant bit of its first byte). An entry of statusSize s occupies bits
index*s .. index*s+s-1 (§3.3), read left to right as a number, most significant bit first.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import zlib
from typing import Any

from .memo import Memo

MIN_ENTRIES = 131_072  # §3.2 minimumNumberOfEntries: so a list says nothing about any one credential
MAX_DECODED = 16 * 1024 * 1024  # a larger list is refused (a GZIP bomb is not a status list)


class StatusListError(ValueError):
    """The status list or its entry is malformed (the spec's MALFORMED_VALUE_ERROR, RANGE_ERROR,
    STATUS_LIST_LENGTH_ERROR); the message says how."""


def new_bitstring(entries: int = MIN_ENTRIES, size: int = 1) -> bytearray:
    """§3.3 step 1: a zeroed bitstring for `entries` entries of `size` bits (at least 16 KB)."""
    if entries < MIN_ENTRIES:
        raise StatusListError(f"A status list holds at least {MIN_ENTRIES:,} entries.")
    return bytearray(-(-entries * size // 8))


def encode_list(bits: bytes) -> str:
    """encodedList: 'u' + base64url without padding of the GZIP-compressed bits (§2.2)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as fh:  # mtime 0: same bits, same text
        fh.write(bits)
    return "u" + base64.urlsafe_b64encode(buffer.getvalue()).rstrip(b"=").decode("ascii")


def decode_list(encoded: Any) -> bytes:
    """§3.4 Bitstring Expansion: the bits of an encodedList (multibase 'u', or the plain
    base64url of StatusList2021); at most 16 MB, a cut-off stream is refused."""
    if not isinstance(encoded, str) or not encoded:
        raise StatusListError("The status list has no encodedList.")
    text = encoded.removeprefix("u")
    try:
        compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        inflater = zlib.decompressobj(wbits=31)
        bits = inflater.decompress(compressed, MAX_DECODED + 1)
    except (ValueError, zlib.error) as exc:
        raise StatusListError(f"The status list's encodedList cannot be decoded ({exc}).") from None
    if len(bits) > MAX_DECODED or inflater.unconsumed_tail:
        raise StatusListError("The status list is larger than 16 MB once decompressed.")
    if not inflater.eof:  # a cut-off stream would read as a shorter list
        raise StatusListError("The status list's encodedList is incomplete (the GZIP stream is cut off).")
    return bits


def read_status(bits: bytes, index: int, size: int = 1) -> int:
    """The value of entry `index` (statusSize `size` bits, most significant first); RANGE_ERROR
    (a StatusListError) when the entry lies outside the bitstring."""
    start = index * size
    if index < 0 or start + size > len(bits) * 8:
        raise StatusListError(f"The status list has no entry {index}.")
    value = 0
    for bit in range(start, start + size):
        value = (value << 1) | ((bits[bit // 8] >> (7 - bit % 8)) & 1)
    return value


def write_status(bits: bytearray, index: int, value: int, size: int = 1) -> None:
    """Set entry `index` to `value` in place (the inverse of read_status)."""
    start = index * size
    if index < 0 or start + size > len(bits) * 8 or not 0 <= value < (1 << size):
        raise StatusListError(f"Entry {index} value {value} does not fit the list.")
    for offset in range(size):
        bit = start + offset
        mask = 1 << (7 - bit % 8)
        if (value >> (size - 1 - offset)) & 1:
            bits[bit // 8] |= mask
        else:
            bits[bit // 8] &= ~mask


def check_length(bits: bytes, size: int) -> None:
    """§3.2 step 10: fewer than 131,072 entries of `size` bits is a STATUS_LIST_LENGTH_ERROR."""
    entries = len(bits) * 8 // size
    if entries < MIN_ENTRIES:
        raise StatusListError(f"The status list holds {entries:,} entries of {size} bit(s); the spec requires at "
                              f"least {MIN_ENTRIES:,} so that a list reveals nothing about one credential.")


# Inflated lists by their encoded text, at most 32 MB in all: a batch reads thousands of entries
# from a handful of lists, and a hostile issuer's many large lists must not grow memory unbounded.
_bits_memo = Memo(32 * 1024 * 1024, getsizeof=len)


def decoded_bits(encoded: Any) -> bytes:
    """decode_list, memoised on the encoded text (errors are not memoised: they are raised anew)."""
    if not isinstance(encoded, str):
        return decode_list(encoded)
    return _bits_memo.get(hashlib.sha256(encoded.encode()).digest(), lambda: decode_list(encoded))
