"""Public metadata of a key (KeyInfo) and the JSON record format of key files."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from verifier.errors import KeyFormatError
from verifier.multikey import decode_public_key

from .errors import KeyFileError

KeyStatus = Literal["active", "retired", "revoked"]
STATUSES: tuple[str, ...] = ("active", "retired", "revoked")
KEY_ID_RE = re.compile(r"^key-\d{8}-[0-9a-f]{8}$")
_TS_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class KeyInfo:
    """Public metadata of one key (never the private key)."""

    key_id: str
    public_key_multibase: str
    status: KeyStatus
    created: datetime
    retired_at: datetime | None = None
    revoked_at: datetime | None = None
    revocation_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready public metadata (ISO-8601 Z timestamps)."""
        return {
            "key_id": self.key_id,
            "public_key_multibase": self.public_key_multibase,
            "status": self.status,
            "created": _ts(self.created),
            "retired_at": _ts(self.retired_at),
            "revoked_at": _ts(self.revoked_at),
            "revocation_reason": self.revocation_reason,
        }


def utc_now() -> datetime:
    """Current aware UTC time."""
    return datetime.now(UTC)


def _ts(value: datetime | None) -> str | None:
    """ISO-8601 UTC timestamp with a Z suffix (None passes through)."""
    return None if value is None else value.astimezone(UTC).strftime(_TS_FORMAT)


def _parse_ts(value: Any, field: str, *, optional: bool = False) -> datetime | None:
    """Parse an ISO-8601 timestamp into an aware UTC datetime."""
    if value is None and optional:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise KeyFileError(f"Key file field {field!r} is not an ISO-8601 timestamp.") from None
    if parsed.tzinfo is None:
        raise KeyFileError(f"Key file field {field!r} has no time zone.")
    return parsed.astimezone(UTC)


def parse_key_record(data: Any, key_id: str) -> tuple[KeyInfo, str | None]:
    """Validate a key file's JSON; returns its metadata and sealed private key."""
    if not isinstance(data, dict) or data.get("key_id") != key_id:
        raise KeyFileError(f"Key file {key_id}.json does not describe key {key_id}.")
    status, pem = data.get("status"), data.get("encrypted_private_key")
    if status not in STATUSES:
        raise KeyFileError(f"Key file {key_id}.json has an unknown status {status!r}.")
    multibase = data.get("public_key_multibase")
    multibase = multibase if isinstance(multibase, str) else ""
    try:
        decode_public_key(multibase)
    except KeyFormatError as exc:
        raise KeyFileError(f"Key file {key_id}.json: {exc.message}.") from None
    if pem is not None and not isinstance(pem, str):
        raise KeyFileError(f"Key file {key_id}.json has a malformed private key field.")
    info = KeyInfo(
        key_id=key_id,
        public_key_multibase=multibase,
        status=status,
        created=_parse_ts(data.get("created"), "created"),  # type: ignore[arg-type]
        retired_at=_parse_ts(data.get("retired_at"), "retired_at", optional=True),
        revoked_at=_parse_ts(data.get("revoked_at"), "revoked_at", optional=True),
        revocation_reason=data.get("revocation_reason"),
    )
    return info, pem
