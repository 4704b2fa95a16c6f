"""The Open Badges 2.0 checks that need nothing fetched: the assertion's shape, context, dates and
recipient (OB 2.0 §Assertion, §IdentityObject)."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from .report import Check, Problem, Status
from .timeutil import parse_lenient_datetime

OB2_CONTEXT = "https://w3id.org/openbadges/v2"
Outcome = tuple[Check, list[Problem]]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []


def fail(check_id: str, message: str, code: str, title: str) -> Outcome:
    return Check(check_id, Status.FAILED, message), [Problem(code, title, message)]


def check_parse(assertion: Any) -> Outcome:
    if not isinstance(assertion, dict) or "Assertion" not in as_list(assertion.get("type")):
        return fail("parse", "This is not an Open Badges 2.0 assertion (its type is not Assertion).",
                    "not_an_assertion", "Not an assertion")
    return Check("parse", Status.PASSED, "The file is a well-formed Open Badges 2.0 assertion."), []


def check_context(assertion: dict[str, Any]) -> Outcome:
    if OB2_CONTEXT not in as_list(assertion.get("@context")):
        return fail("context", f"The assertion does not use the Open Badges 2.0 context ({OB2_CONTEXT}).",
                    "context_invalid", "Wrong context")
    return Check("context", Status.PASSED, "Uses the standard Open Badges 2.0 vocabulary."), []


def check_schema(assertion: dict[str, Any]) -> Outcome:
    """Required OB 2.0 Assertion fields (§Assertion): id, recipient, badge, verification, issuedOn."""
    missing = [name for name in ("id", "recipient", "badge", "verification", "issuedOn") if not assertion.get(name)]
    recipient = assertion.get("recipient")
    if isinstance(recipient, dict):
        missing += [f"recipient.{n}" for n in ("type", "identity") if not recipient.get(n)]
    if assertion.get("issuedOn") and parse_lenient_datetime(assertion["issuedOn"]) is None:
        missing.append("issuedOn (not a date)")
    if missing:
        return Check("schema", Status.FAILED, f"The assertion lacks required fields: {', '.join(missing)}."), [
            Problem("ob2_field_missing", "Required field missing", f"Missing or invalid: {name}.", f"/{name}")
            for name in missing]
    return Check("schema", Status.PASSED, "Has every field an Open Badges 2.0 assertion requires."), []


def check_validity(assertion: dict[str, Any], now: datetime) -> Outcome:
    issued, expires = parse_lenient_datetime(assertion.get("issuedOn")), parse_lenient_datetime(assertion.get("expires"))
    if assertion.get("expires") is not None and expires is None:
        return fail("validity", f"The expiry date {assertion.get('expires')!r} is not a date.", "date_invalid",
                    "Invalid date")
    if issued and issued > now:
        return fail("validity", f"The badge is dated in the future ({assertion.get('issuedOn')}).",
                    "not_yet_valid", "Not yet valid")
    if issued and expires and expires < issued:
        return fail("validity", "The badge expires before it was issued.", "date_invalid", "Invalid dates")
    if expires and expires <= now:
        return fail("validity", f"The badge expired on {assertion.get('expires')}.", "expired", "Expired")
    until = f" until {assertion.get('expires')}" if expires else ""
    return Check("validity", Status.PASSED, f"Issued on {assertion.get('issuedOn')}, valid{until or ' with no expiry'}."), []


def check_recipient(assertion: dict[str, Any], recipient: str | None) -> Outcome:
    if recipient is None:
        return Check("recipient", Status.SKIPPED, "No recipient was given to compare with."), []
    if recipient_matches(assertion.get("recipient"), recipient):
        return Check("recipient", Status.PASSED, "The badge belongs to the given recipient."), []
    return fail("recipient", "The badge does not belong to the given recipient.", "recipient_mismatch",
                 "Different recipient")


def recipient_matches(identity: Any, recipient: str) -> bool:
    """OB 2.0 IdentityObject: plain identity, or 'sha256$' / 'md5$' hex of identity + salt."""
    if not isinstance(identity, dict) or not isinstance(identity.get("identity"), str):
        return False
    value, salt = identity["identity"], str(identity.get("salt") or "")
    email = identity.get("type") == "email"
    candidates = {recipient, recipient.strip().lower()} if email else {recipient.strip()}
    if not identity.get("hashed"):
        return (value.strip().lower() if email else value) in candidates
    algorithm, _, digest = value.partition("$")
    if algorithm not in ("sha256", "md5"):
        return False
    return any(hashlib.new(algorithm, (c + salt).encode()).hexdigest() == digest.lower() for c in candidates)
