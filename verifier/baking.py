"""Baked badge images (Open Badges 3.0 §5.3 Baking): a credential inside a PNG or an SVG.

PNG: one `iTXt` chunk with keyword `openbadgecredential`, uncompressed, holding the credential
(JSON or a compact JWS). SVG: an `openbadges:credential` element
(xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0") holding it in CDATA. Baking replaces
any credential already there, so an image never carries two. Open Badges 2.0 images (PNG
keyword `openbadges`, SVG `openbadges:assertion` with a `verify` attribute) are read too.
"""

from __future__ import annotations

import re
import struct
import zlib

from defusedxml import ElementTree as SafeET  # no entities, no external DTDs

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
OB3_KEYWORD, OB2_KEYWORD = b"openbadgecredential", b"openbadges"
OB3_NS = "https://purl.imsglobal.org/ob/v3p0"
OB2_NS = "http://openbadges.org"
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MAX_CREDENTIAL_BYTES = 2 * 1024 * 1024


class BakingError(ValueError):
    """The image is not a readable PNG/SVG, or carries no credential; the message says which."""


def is_png(data: bytes) -> bool:
    return data.startswith(PNG_SIGNATURE)


def is_svg(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<svg", b"<?xml", b"<!--")) and b"<svg" in data[:65536].lower()


def _chunks(data: bytes):
    """(type, body, start, end) of every chunk; BakingError on a damaged file."""
    if not is_png(data):
        raise BakingError("This is not a PNG image.")
    if len(data) > MAX_IMAGE_BYTES:
        raise BakingError("The image is larger than 10 MB.")
    pos = len(PNG_SIGNATURE)
    while pos < len(data):
        if pos + 12 > len(data):
            raise BakingError("The PNG is truncated.")
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        end = pos + 12 + length
        if end > len(data):
            raise BakingError("The PNG is truncated.")
        body = data[pos + 8:pos + 8 + length]
        if zlib.crc32(kind + body) != struct.unpack(">I", data[end - 4:end])[0]:
            raise BakingError(f"The PNG is damaged (a {kind.decode('latin-1')} chunk fails its checksum).")
        yield kind, body, pos, end
        if kind == b"IEND":
            return
        pos = end
    raise BakingError("The PNG has no end (IEND chunk).")


def _itxt(body: bytes) -> tuple[bytes, str]:
    """(keyword, text) of an iTXt chunk."""
    keyword, _, rest = body.partition(b"\x00")
    if len(rest) < 2:
        raise BakingError("An iTXt chunk in the PNG is malformed.")
    compressed, method, rest = rest[0], rest[1], rest[2:]
    _language, _, rest = rest.partition(b"\x00")
    _translated, _, text = rest.partition(b"\x00")
    if compressed:
        if method != 0:
            raise BakingError("An iTXt chunk uses an unknown compression method.")
        inflater = zlib.decompressobj()
        text = inflater.decompress(text, MAX_CREDENTIAL_BYTES + 1)
        if len(text) > MAX_CREDENTIAL_BYTES or inflater.unconsumed_tail:
            raise BakingError("The credential in the PNG is larger than 2 MB.")
    try:
        return keyword, text.decode("utf-8")
    except UnicodeDecodeError:
        raise BakingError("The credential in the PNG is not UTF-8 text.") from None


def unbake_png(data: bytes) -> str:
    """The credential text baked into a PNG (OB 3.0 keyword, else OB 2.0)."""
    found: dict[bytes, str] = {}
    for kind, body, _start, _end in _chunks(data):
        if kind in (b"iTXt", b"tEXt"):
            keyword, text = _itxt(body) if kind == b"iTXt" else _text_chunk(body)
            if keyword in (OB3_KEYWORD, OB2_KEYWORD):
                if keyword in found:
                    raise BakingError("The PNG carries two badge credentials; a baked badge carries exactly one.")
                found[keyword] = text
    for keyword in (OB3_KEYWORD, OB2_KEYWORD):
        if keyword in found:
            return found[keyword].strip()
    raise BakingError("The PNG carries no badge credential (no openbadgecredential iTXt chunk).")


def _text_chunk(body: bytes) -> tuple[bytes, str]:
    keyword, _, text = body.partition(b"\x00")
    return keyword, text.decode("latin-1")


def bake_png(image: bytes, credential: str) -> bytes:
    """The PNG with exactly one uncompressed iTXt `openbadgecredential` chunk holding `credential`."""
    payload = credential.encode("utf-8")
    if len(payload) > MAX_CREDENTIAL_BYTES:
        raise BakingError("The credential is larger than 2 MB.")
    body = OB3_KEYWORD + b"\x00" + b"\x00\x00" + b"\x00" + b"\x00" + payload
    chunk = struct.pack(">I", len(body)) + b"iTXt" + body + struct.pack(">I", zlib.crc32(b"iTXt" + body))
    out = bytearray(PNG_SIGNATURE)
    for kind, body_, start, end in _chunks(image):
        if kind == b"iTXt" and body_.partition(b"\x00")[0] == OB3_KEYWORD:
            continue  # re-baking replaces the old credential
        out += image[start:end]
        if kind == b"IHDR":
            out += chunk
    return bytes(out)


def unbake_svg(data: bytes) -> str:
    """The credential text in an SVG's openbadges:credential (OB 3.0) or openbadges:assertion (OB 2.0)."""
    if len(data) > MAX_IMAGE_BYTES:
        raise BakingError("The image is larger than 10 MB.")
    try:
        root = SafeET.fromstring(data)
    except Exception as exc:  # noqa: BLE001 - defusedxml raises several types for hostile or broken XML
        raise BakingError(f"The SVG cannot be read safely ({type(exc).__name__}).") from None
    for name in (f"{{{OB3_NS}}}credential", f"{{{OB2_NS}}}assertion"):
        elements = root.findall(f".//{name}")
        if len(elements) > 1:
            raise BakingError("The SVG carries two badge credentials; a baked badge carries exactly one.")
        element = elements[0] if elements else None
        if element is not None:
            # the credential in CDATA, or a JWS / hosted URL in a `verify` attribute
            text = (element.text or "").strip() or element.get("verify", "").strip()
            if text:
                return text
    raise BakingError("The SVG carries no badge credential (no openbadges:credential element).")


_OB3_ELEMENT = re.compile(r"\s*<openbadges:credential\b.*?</openbadges:credential>", re.S)


def bake_svg(svg: str, credential: str) -> str:
    """The SVG with one openbadges:credential element (CDATA) right inside the root <svg>."""
    if "]]>" in credential:
        raise BakingError("The credential cannot be put in CDATA (it contains ']]>').")
    text = _OB3_ELEMENT.sub("", svg)
    match = re.search(r"<svg\b[^>]*>", text)
    if match is None:
        raise BakingError("This is not an SVG image (no <svg> element).")
    tag = match.group(0)
    if f'xmlns:openbadges="{OB3_NS}"' not in tag:
        closing = "/>" if tag.endswith("/>") else ">"
        tag = tag[: -len(closing)] + f' xmlns:openbadges="{OB3_NS}"' + closing
    element = f"\n  <openbadges:credential><![CDATA[{credential}]]></openbadges:credential>"
    return text[:match.start()] + tag + element + text[match.end():]
