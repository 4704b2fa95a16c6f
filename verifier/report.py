"""Typed results of a verification: checks with stable ids, problems with stable codes."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .summary import CredentialSummary

# Stable check ids, in the order they are reported.
CHECK_IDS = ("parse", "context", "schema", "proof", "issuer", "validity", "status", "recipient")


class Status(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"
    WARNING = "warning"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class Problem:
    """Something wrong with the credential: a stable code, a title and a detail for people."""

    code: str
    title: str
    detail: str
    path: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = {"code": self.code, "title": self.title, "detail": self.detail}
        if self.path:
            data["path"] = self.path
        return data


@dataclass(frozen=True)
class Check:
    """The outcome of one check: ok unless it failed; the message is for a licensure clerk."""

    id: str
    status: Status
    message: str

    @property
    def ok(self) -> bool:
        return self.status is not Status.FAILED

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "ok": self.ok, "status": self.status.value, "message": self.message}


@dataclass(frozen=True)
class VerificationReport:
    """The whole verdict: verified only when no check failed."""

    checks: tuple[Check, ...]
    problems: tuple[Problem, ...] = ()
    version: str | None = None  # e.g. "Open Badges 3.0 (VC 2.0, Data Integrity)", "Open Badges 2.0 (hosted)"
    credential: dict[str, Any] | None = field(default=None, compare=False, repr=False)
    # What the credential says (who, what, when), filled in by verify_presented.
    summary: CredentialSummary | None = field(default=None, compare=False, repr=False)

    @property
    def verified(self) -> bool:
        return bool(self.checks) and all(check.ok for check in self.checks)

    def check(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "verified": self.verified,
            "checks": [c.to_json() for c in self.checks],
            "problems": [p.to_json() for p in self.problems],
        }
        if self.version:
            data["version"] = self.version
        if self.summary is not None:
            data["credential"] = self.summary.to_json()
        return data
