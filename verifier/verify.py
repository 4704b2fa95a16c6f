"""verify_credential: every check a licensure clerk relies on, as one typed report.

It never raises because a credential is bad: problems become failed checks. The clock,
the source of issuer documents, the documents of known issuers and the status checker are
passed in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from . import checks
from .issuer_binding import check_issuer
from .key_resolution import DocumentSource, ResolvedKey, pinned_documents, remembered
from .report import Check, Problem, Status, VerificationReport

StatusChecker = Callable[[dict[str, Any]], Check]
# Issuer id -> its controller document: a known issuer's keys, never looked up elsewhere.
KnownIssuers = Mapping[str, dict[str, Any]]
# The proof step: (check, problems, keys that signed), for Data Integrity or a JWS.
ProofStep = Callable[[dict[str, Any]], "tuple[Check, list[Problem], list[ResolvedKey]]"]


def verify_credential(
    document: Any,
    *,
    now: datetime | None = None,
    documents: DocumentSource | None = None,
    status_checker: StatusChecker | None = None,
    recipient: str | None = None,
    known_issuers: KnownIssuers | None = None,
) -> VerificationReport:
    """Verify an Open Badges 3.0 credential (VC 2.0 or VC 1.1 form, Data Integrity) given as parsed JSON.

    `known_issuers` pins the controller documents of issuers the caller knows: a credential naming
    one is checked against those documents only (its id is never resolved elsewhere)."""
    source = remembered(pinned_documents(known_issuers, documents))
    return verify_decoded(document, now=now, status_checker=status_checker, recipient=recipient, documents=source,
                          proof_step=lambda doc: checks.check_proof(doc, source))


def verify_decoded(
    document: Any,
    *,
    proof_step: ProofStep,
    documents: DocumentSource | None,
    now: datetime | None = None,
    status_checker: StatusChecker | None = None,
    recipient: str | None = None,
    securing: str = "Data Integrity",
    extra: tuple[Problem, ...] = (),
) -> VerificationReport:
    """The checks of a decoded VC; `proof_step` checks how it is secured (embedded proof or JWS), and
    the keys it returns are bound to the issuer through `documents`."""
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
    record(*check_issuer(document, keys, documents))
    record(*checks.check_validity(document, now))
    record(*checks.check_status(document, status_checker))
    record(*checks.check_recipient(document, recipient))
    return VerificationReport(tuple(results), tuple(problems), version=version, credential=document)
