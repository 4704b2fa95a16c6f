"""Reading a credential from bytes: size and nesting limits, JSON, clear problems.

Baked images and JWTs join here as the verifier grows; the library stays offline.
"""

from __future__ import annotations

import json
from typing import Any

from .report import Problem

MAX_BYTES = 2 * 1024 * 1024  # a real credential is a few kB; larger input is refused unread


class UnreadableInput(Exception):
    """The input is not a credential we can read; carries a Problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.detail)
        self.problem = problem


def parse_credential_bytes(data: bytes) -> Any:
    """Parsed JSON of a credential file; raises UnreadableInput with a clear problem."""
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
