"""Reading a credential from bytes: JSON, or a baked PNG / SVG badge image; size and nesting
limits; clear problems. The library stays offline.
"""

from __future__ import annotations

import json
from typing import Any

from .baking import MAX_IMAGE_BYTES, BakingError, is_png, is_svg, unbake_png, unbake_svg
from .report import Problem

MAX_BYTES = 2 * 1024 * 1024  # a real credential is a few kB; larger input is refused unread


class UnreadableInput(Exception):
    """The input is not a credential we can read; carries a Problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def parse_credential_bytes(data: bytes) -> Any:
    """Parsed JSON of a credential file or baked image; raises UnreadableInput with a clear problem."""
    if is_png(data) or is_svg(data):
        data = _unbaked(data)
    if len(data) > MAX_BYTES:
        raise UnreadableInput(Problem("input_too_large", "File too large",
                                      f"The input is {len(data):,} bytes; a credential is at most {MAX_BYTES:,} bytes."))
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
    if text.count(".") == 2 and not text.lstrip().startswith("{"):
        raise UnreadableInput(Problem("jwt_unsupported", "Signed as a JWT",
                                      "The image holds a VC-JWT (compact JWS); this verifier reads Data Integrity "
                                      "(JSON) credentials."))
    return text.encode("utf-8")
