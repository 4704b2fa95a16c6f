"""Who may review what: the one rule, as a reason for one submission (Python) and as a query filter (SQL).

Each rule below states both forms side by side, so the review queue (a query), the decision (one
loaded submission) and the new-submission notices (which assessors to tell) cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, or_, true

from ..models import Submission, User

NOT_AN_ASSESSOR = "Only assessors review submissions."
OWN_WORK = "You cannot review your own work."
OWN_DISTRICT = "Submissions from your own district are reviewed by assessors from other districts."


@dataclass(frozen=True)
class Rule:
    """One condition a submission must meet for an assessor: `allows` in Python, `where` in SQL."""

    refusal: str
    allows: Callable[[Submission], bool]
    where: ColumnElement[bool]


def rules(assessor: User, *, own_district_allowed: bool) -> list[Rule]:
    """The conditions in force for this assessor under the configuration (MICROCRED_ASSESSOR_OWN_DISTRICT)."""
    is_assessor = assessor.has_role("assessor")
    found = [
        Rule(NOT_AN_ASSESSOR, lambda _sub: is_assessor, true() if is_assessor else false()),
        Rule(OWN_WORK, lambda sub: sub.user_id != assessor.id, Submission.user_id != assessor.id),
    ]
    district = assessor.district_id
    if not own_district_allowed and district is not None:
        # A submission without a district is from no district, so never from the assessor's own.
        found.append(Rule(OWN_DISTRICT, lambda sub: sub.district_id != district,
                          or_(Submission.district_id != district, Submission.district_id.is_(None))))
    return found


def may_review(assessor: User, sub: Submission, *, own_district_allowed: bool) -> str | None:
    """Why this assessor may not review this submission, or None when they may."""
    for rule in rules(assessor, own_district_allowed=own_district_allowed):
        if not rule.allows(sub):
            return rule.refusal
    return None


def reviewable_by(assessor: User, *, own_district_allowed: bool) -> list[ColumnElement[bool]]:
    """WHERE clauses keeping the submissions this assessor may review (as `may_review` judges one)."""
    return [rule.where for rule in rules(assessor, own_district_allowed=own_district_allowed)]
