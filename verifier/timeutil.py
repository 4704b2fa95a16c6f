"""XML Schema dateTime values as used by VC validity dates and proofs."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timezone

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


def parse_lenient_datetime(value: object) -> datetime | None:
    """Open Badges 2.0 dates: ISO 8601 (a missing timezone read as UTC) or a Unix timestamp."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.isdigit()):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    strict = parse_datetime(value)
    if strict is not None or not isinstance(value, str):
        return strict
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
