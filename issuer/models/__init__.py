"""Typed SQLAlchemy 2.0 models, one module per area; import them from here."""

from .base import Base, utcnow
from .core import AuditEvent, BadgeClassRecord, BadgeClassVersion, Credential, LoginFailure, User
from .licensure import TrustedIssuerRecord
from .people import District, Enrolment, Invitation, OutboxMessage, PasswordReset
from .programme import SURVEY_KINDS, WORKED_WITH, SurveyResponse
from .sharing import CredentialOffer
from .status import StatusEntry, StatusList
from .work import OPEN_STATES, STATES, Attempt, Judgement, Submission, SubmissionFile

__all__ = [
    "OPEN_STATES", "STATES", "Attempt", "AuditEvent", "BadgeClassRecord", "BadgeClassVersion", "Base", "Credential",
    "CredentialOffer", "District", "Enrolment", "Invitation", "Judgement", "LoginFailure", "OutboxMessage", "PasswordReset", "Submission",
    "StatusEntry", "StatusList", "SubmissionFile", "SURVEY_KINDS", "TrustedIssuerRecord", "SurveyResponse", "User", "WORKED_WITH", "utcnow",
]
