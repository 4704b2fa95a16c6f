"""verify_credential: every check a licensure clerk relies on, as one typed report.

It never raises because a credential is bad: problems become failed checks. The clock,
the source of issuer documents and the status checker are passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from . import checks
from .key_resolution import DocumentSource
from .report import Check, Problem, Status, VerificationReport

StatusChecker = Callable[[dict[str, Any]], Check]


def verify_credential(
    document: Any,
    *,
    now: datetime | None = None,
    documents: DocumentSource | None = None,
    status_checker: StatusChecker | None = None,
    recipient: str | None = None,
) -> VerificationReport:
    """Verify an Open Badges 3.0 credential (VC 2.0 or VC 1.1 form) given as parsed JSON."""
    now = now or datetime.now(timezone.utc)
    results: list[Check] = []
    problems: list[Problem] = []

    def record(check: Check, found: list[Problem]) -> None:
        results.append(check)
        problems.extend(found)

    parsed = checks.check_parse(document)
    record(*parsed)
    if parsed[0].status is Status.FAILED:
        return VerificationReport(tuple(results), tuple(problems))
    version = checks.describe_version(document)
    record(*checks.check_context(document))
    record(*checks.check_schema(document))
    proof_check, proof_problems, keys = checks.check_proof(document, documents)
    record(proof_check, proof_problems)
    record(*checks.check_issuer(document, keys))
    record(*checks.check_validity(document, now))
    record(*checks.check_status(document, status_checker))
    record(*checks.check_recipient(document, recipient))
    return VerificationReport(tuple(results), tuple(problems), version=version, credential=document)
