"""Typed SQLAlchemy 2.0 models, one module per area; import them from here."""

from .base import Base, utcnow
from .core import AuditEvent, BadgeClassRecord, BadgeClassVersion, Credential, LoginFailure, User
from .licensure import ACTIVE_BATCH_STATES, BATCH_STATES, BatchJob, TrustedIssuerRecord
from .people import District, Enrolment, Invitation, OutboxMessage, PasswordReset
from .programme import SURVEY_KINDS, WORKED_WITH, SurveyResponse
from .sharing import CredentialOffer
from .status import StatusEntry, StatusList
from .work import OPEN_STATES, STATES, Attempt, Judgement, Submission, SubmissionFile

__all__ = [
    "ACTIVE_BATCH_STATES",
    "BATCH_STATES",
    "OPEN_STATES",
    "STATES",
    "SURVEY_KINDS",
    "WORKED_WITH",
    "Attempt",
    "AuditEvent",
    "BadgeClassRecord",
    "BadgeClassVersion",
    "Base",
    "BatchJob",
    "Credential",
    "CredentialOffer",
    "District",
    "Enrolment",
    "Invitation",
    "Judgement",
    "LoginFailure",
    "OutboxMessage",
    "PasswordReset",
    "StatusEntry",
    "StatusList",
    "Submission",
    "SubmissionFile",
    "SurveyResponse",
    "TrustedIssuerRecord",
    "User",
    "utcnow",
]
