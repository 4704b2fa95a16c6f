"""Open Badges 2.0 (placeholder until hosted and signed assertions land)."""

from __future__ import annotations

from typing import Any

from .report import Check, Problem, Status, VerificationReport

OB2_CONTEXT = "https://w3id.org/openbadges/v2"


def is_ob2(item: Any) -> bool:
    return isinstance(item, dict) and (item.get("@context") == OB2_CONTEXT or item.get("type") == "Assertion")


def is_ob2_jws(token: str) -> bool:
    return False


def _todo() -> VerificationReport:
    problem = Problem("ob2_unsupported", "Open Badges 2.0", "Open Badges 2.0 assertions are not verified yet.")
    return VerificationReport((Check("parse", Status.FAILED, problem.detail),), (problem,),
                              version="Open Badges 2.0")


def verify_signed(token: str, **_: Any) -> VerificationReport:
    return _todo()


def verify_hosted(assertion: dict, **_: Any) -> VerificationReport:
    return _todo()
