"""Reading a credential from bytes: JSON, a compact JWS (VC-JWT, OB 2.0 signed), or a baked PNG /
SVG badge image holding either; size and nesting limits; clear problems. The library stays offline.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .baking import MAX_IMAGE_BYTES, BakingError, is_png, is_svg, unbake_png, unbake_svg
from .report import Problem

MAX_BYTES = 2 * 1024 * 1024  # a real credential is a few kB; larger input is refused unread
COMPACT_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


class UnreadableInput(Exception):
    """The input is not a credential we can read; carries a Problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def is_compact_jws(text: str) -> bool:
    return bool(COMPACT_JWS.match(text.strip()))


def read_presented(data: bytes) -> Any:
    """Parsed JSON, or the compact JWS text (a str), of a file or a baked image; raises UnreadableInput."""
    if is_png(data) or is_svg(data):
        data = _unbaked(data)
    if len(data) > MAX_BYTES:
        raise _too_large(len(data))
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:8].lower() == b"https://" or head[:7].lower() == b"http://":
        text = data.decode("utf-8", errors="replace").strip()
        if len(text) < 2048 and not any(c.isspace() for c in text):
            return text  # an OB 2.0 baked image may carry the hosted assertion's URL
    if head[:1] not in (b"{", b"[", b'"') and head[:2] == b"ey":
        text = data.decode("ascii", errors="replace").strip()
        if is_compact_jws(text):
            return text
        raise UnreadableInput(Problem("jws_malformed", "Not a readable JWT",
                                      "The input looks like a JWT but is not three base64url parts separated by dots."))
    return parse_json_bytes(data)


def _too_large(size: int) -> UnreadableInput:
    return UnreadableInput(Problem("input_too_large", "File too large",
                                   f"The input is {size:,} bytes; a credential is at most {MAX_BYTES:,} bytes."))


def parse_json_bytes(data: bytes) -> Any:
    """Parsed JSON text; raises UnreadableInput with a clear problem."""
    if len(data) > MAX_BYTES:
        raise _too_large(len(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UnreadableInput(Problem("not_json", "Not a JSON file", "The input is not UTF-8 text.")) from None
    try:
        return json.loads(text)
    except RecursionError:
        raise UnreadableInput(Problem("too_deep", "Nested too deeply", "The JSON is nested too deeply to read.")) from None
    except json.JSONDecodeError as exc:
        raise UnreadableInput(Problem("not_json", "Not valid JSON",
                                      f"The input is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.")) from None
    except ValueError as exc:  # e.g. an integer literal beyond Python's digit limit
        raise UnreadableInput(Problem("not_json", "Unreadable value", f"The JSON holds a value that cannot be read: {exc}.")) from None


def _unbaked(data: bytes) -> bytes:
    """The credential carried by a baked image."""
    if len(data) > MAX_IMAGE_BYTES:
        raise UnreadableInput(Problem("input_too_large", "File too large",
                                      f"The image is {len(data):,} bytes; at most {MAX_IMAGE_BYTES:,} are read."))
    try:
        text = unbake_png(data) if is_png(data) else unbake_svg(data)
    except BakingError as exc:
        raise UnreadableInput(Problem("not_baked", "No credential in the image", str(exc))) from None
    return text.encode("utf-8")
