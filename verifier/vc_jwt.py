"""VC-JWT (placeholder until the JWS verification lands)."""

from __future__ import annotations

from typing import Any

from .report import Check, Problem, Status, VerificationReport


def verify_vc_jwt(token: str, **_: Any) -> VerificationReport:
    problem = Problem("jwt_unsupported", "Signed as a JWT", "VC-JWT credentials are not verified yet.")
    return VerificationReport((Check("parse", Status.FAILED, problem.detail),), (problem,))
