"""verify_credential: every check a licensure clerk relies on, as one typed report.

It never raises because a credential is bad: problems become failed checks. The clock,
the source of issuer documents and the status checker are passed in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from . import checks
from .key_resolution import DocumentSource, ResolvedKey
from .report import Check, Problem, Status, VerificationReport

StatusChecker = Callable[[dict[str, Any]], Check]
# The proof step: (check, problems, keys that signed), for Data Integrity or a JWS.
ProofStep = Callable[[dict[str, Any]], "tuple[Check, list[Problem], list[ResolvedKey]]"]
IssuerStep = Callable[[dict[str, Any], "list[ResolvedKey]"], "tuple[Check, list[Problem]]"]


def verify_credential(
    document: Any,
    *,
    now: datetime | None = None,
    documents: DocumentSource | None = None,
    status_checker: StatusChecker | None = None,
    recipient: str | None = None,
) -> VerificationReport:
    """Verify an Open Badges 3.0 credential (VC 2.0 or VC 1.1 form, Data Integrity) given as parsed JSON."""
    return verify_decoded(document, now=now, status_checker=status_checker, recipient=recipient,
                          proof_step=lambda doc: checks.check_proof(doc, documents))


def verify_decoded(
    document: Any,
    *,
    proof_step: ProofStep,
    now: datetime | None = None,
    status_checker: StatusChecker | None = None,
    recipient: str | None = None,
    securing: str = "Data Integrity",
    issuer_step: IssuerStep = checks.check_issuer,
    extra: tuple[Problem, ...] = (),
) -> VerificationReport:
    """The checks of a decoded VC; `proof_step` checks how it is secured (embedded proof or JWS)."""
    now = now or datetime.now(UTC)
    results: list[Check] = []
    problems: list[Problem] = list(extra)

    def record(check: Check, found: list[Problem]) -> None:
        results.append(check)
        problems.extend(found)

    parsed = checks.check_parse(document)
    record(*parsed)
    if parsed[0].status is Status.FAILED:
        return VerificationReport(tuple(results), tuple(problems))
    version = checks.describe_version(document, securing)
    record(*checks.check_context(document))
    record(*checks.check_schema(document))
    proof_check, proof_problems, keys = proof_step(document)
    record(proof_check, proof_problems)
    record(*issuer_step(document, keys))
    record(*checks.check_validity(document, now))
    record(*checks.check_status(document, status_checker))
    record(*checks.check_recipient(document, recipient))
    return VerificationReport(tuple(results), tuple(problems), version=version, credential=document)
