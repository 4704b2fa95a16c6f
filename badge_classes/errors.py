"""Typed errors of the catalogue: each carries a code and messages naming the file and field."""

from __future__ import annotations

import re
from typing import Any


class BadgeClassError(ValueError):
    """Base of catalogue errors."""

    code = "badge_class_invalid"

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class DefinitionInvalid(BadgeClassError):
    """One definition is invalid; `problems` are (field path, what is wrong) pairs."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {field}: {problem}" for field, problem in problems))


class CatalogInvalid(BadgeClassError):
    """Several definitions (or the policy files) are invalid: nothing of the catalogue is loaded."""

    code = "catalog_invalid"

    def __init__(self, errors: list[BadgeClassError]) -> None:
        self.errors = errors
        super().__init__("\n".join(e.message for e in errors))


def flatten_messages(messages: Any, prefix: str = "") -> list[tuple[str, str]]:
    """marshmallow's nested error dict as (dotted.field, message) pairs."""
    out: list[tuple[str, str]] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = "(file)" if key == "_schema" else str(key)
            out += flatten_messages(value, f"{prefix}.{name}" if prefix and name != "(file)" else (prefix or name))
    elif isinstance(messages, list):
        for item in messages:
            out += flatten_messages(item, prefix) if isinstance(item, (dict, list)) else [(prefix, _plain(str(item)))]
    else:
        out.append((prefix, _plain(str(messages))))
    return out


def _plain(message: str) -> str:
    """marshmallow's wording, said the way an editor of the file would say it."""
    return re.sub(r"^Unknown field\.$", "unknown field (check the spelling)", message).rstrip(".")
