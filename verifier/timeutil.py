"""XML Schema dateTime values as used by VC validity dates and proofs."""

from __future__ import annotations

import re
from datetime import datetime, timezone

# dateTimeStamp-like: a timezone is required; fractional seconds allowed.
_DATETIME = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
)


def parse_datetime(value: object) -> datetime | None:
    """An aware datetime, or None when the value is not a dateTime with a timezone."""
    if not isinstance(value, str) or not _DATETIME.match(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def format_datetime(moment: datetime) -> str:
    """UTC, second precision, with a Z: the form used throughout our credentials."""
    if moment.tzinfo is None:
        raise ValueError("a timezone-aware datetime is required")
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
