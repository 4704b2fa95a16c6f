"""Re-issuing a credential: a new one for the same person and achievement, replacing the old one.

For a changed name, a rotated or compromised key, or a corrected badge class version. History is
not rewritten: the new credential keeps the original's PDP value, evidence, results, validFrom and
validUntil. It names the credential it replaces (VC 2.0 `relatedResource`, with the digestSRI of
the old signed text), its row's replaces_id is unique, and the old one is revoked or suspended in
the same transaction: there are never two active copies to count twice.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from badge_classes import BadgeClass, PdpPolicy, PdpRule, achievement_id, to_achievement
from verifier.timeutil import parse_datetime

from ..audit import record_event
from ..catalog.versions import badge_version, current_badge
from ..errors import Conflict, InvalidInput
from ..identity import IssuerIdentity
from ..mail import queue_mail
from ..models import Credential, User
from .issuance import issue_credential
from .status_lists import change_status

OLD_STATUSES = ("revoked", "suspended")


class ReissueRefused(Conflict):
    """The credential cannot be replaced now (revoked, suspended, expired, already replaced)."""

    code = "reissue_refused"


class ReissueInvalid(InvalidInput, ReissueRefused):
    """The re-issue asked for cannot be made as given (no reason, an unknown option)."""


def reissue(session: Session, credential: Credential, *, reason: str, old_status: str, actor: str,
            identity: IssuerIdentity, policy: PdpPolicy, name: str | None = None, to_current_version: bool = False,
            now: datetime | None = None) -> Credential:
    """Issue the replacement (signed by the active key) and revoke or suspend `credential`, in the
    caller's transaction; the teacher is sent the new link. Returns the new credential.

    Raises ReissueRefused (a revoked, suspended, expired or already replaced credential; a bad
    option), InvalidRecipientError (a bad name), CredentialInvalidError.
    """
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    reason = (reason or "").strip()
    if old_status not in OLD_STATUSES:
        raise ReissueInvalid(f"The old credential is revoked or suspended, not {old_status!r}.")
    if not reason or len(reason) > 1000:
        raise ReissueInvalid("Give a reason (at most 1,000 characters): it is kept in the audit log and sent "
                             "to the teacher.")
    credential = session.scalars(select(Credential).where(Credential.id == credential.id).with_for_update()
                                 .execution_options(populate_existing=True)).one()
    refusal = refusal_reason(session, credential, now)
    if refusal:
        raise ReissueRefused(refusal)
    old = json.loads(credential.document)
    subject = old["credentialSubject"]
    badge = (current_badge(session, credential.achievement_slug) if to_current_version
             else badge_version(session, credential.achievement_slug, credential.achievement_version))
    new_name = (name or "").strip() or credential.recipient_name
    new = issue_credential(
        session, badge, identity=identity, policy=_carried(subject.get("creditsEarned"), policy.unit),
        recipient_email=credential.recipient_email, recipient_name=new_name, actor=actor, now=now,
        evidence=copy.deepcopy(old.get("evidence")),
        results=_results(subject.get("result"), subject["achievement"]["id"], badge, identity.settings.public_url),
        recipient_user_id=credential.recipient_user_id, valid_from=_moment(old.get("validFrom")),
        valid_until=_moment(old.get("validUntil")), replaces=credential)
    change_status(session, credential, old_status, reason=reason, actor=actor, identity=identity, now=now,
                  notify=False)  # one message below says both things
    if new_name != credential.recipient_name and credential.recipient_user_id is not None:
        session.get(User, credential.recipient_user_id).display_name = new_name
    record_event(session, actor=actor, action="credential.reissued", subject=new.credential_id,
                 detail={"replaces": credential.credential_id, "old_status": old_status, "reason": reason,
                         "version": badge.version, "key_id": new.key_id,
                         "name_changed": new_name != credential.recipient_name})
    _notify(session, credential, new, old_status, reason, identity.settings.public_url)
    return new


def refusal_reason(session: Session, credential: Credential, now: datetime) -> str | None:
    """Why this credential cannot be re-issued, or None when it can."""
    replaced_by = session.scalar(select(Credential.credential_id)
                                 .where(Credential.replaces_id == credential.credential_id))
    if replaced_by:
        return f"{credential.credential_id} was already replaced by {replaced_by}; re-issue that one instead."
    if credential.status == "revoked":
        return f"{credential.credential_id} is revoked, and revocation is final: it is not re-issued."
    if credential.status == "suspended":
        return f"{credential.credential_id} is suspended: reinstate it first (or revoke it)."
    until = credential.valid_until
    if until is not None and (until if until.tzinfo else until.replace(tzinfo=UTC)) <= now:
        return (f"{credential.credential_id} expired on {until:%Y-%m-%d}: an expired credential is renewed by "
                "earning it again, not re-issued.")
    return None


def _carried(value: Any, unit: str) -> PdpPolicy:
    """A policy that gives every date the original credential's PDP value (none if it carried none)."""
    if value is None:
        return PdpPolicy(unit=unit, rules=())
    return PdpPolicy(unit=unit, rules=(PdpRule(effective_from=date.min, value=float(value),
                                               note="carried over from the credential this one replaces"),))


def _results(old: list[dict[str, Any]] | None, old_achievement: str, badge: BadgeClass,
             base_url: str) -> list[dict[str, Any]] | None:
    """The original results, pointed at this version's ResultDescriptions; ReissueRefused when the
    version's rubric no longer has a criterion or level the teacher was judged on."""
    if not old:
        return None
    new_achievement = achievement_id(base_url, badge.slug, badge.version)
    known = set()
    for description in to_achievement(badge, base_url=base_url)["resultDescription"]:
        known.add(description["id"])
        known.update(level["id"] for level in description.get("rubricCriterionLevel", []))
    out = copy.deepcopy(old)
    for result in out:
        for key in ("resultDescription", "achievedLevel"):
            value = result.get(key)
            if isinstance(value, str) and value.startswith(old_achievement + "#"):
                result[key] = new_achievement + value[len(old_achievement):]
            if key in result and result[key] not in known:
                raise ReissueRefused(f"Version {badge.version} of {badge.slug} does not have the rubric the teacher "
                                     f"was judged on ({value}); re-issue under the version it was earned under.")
    return out


def _moment(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


def _notify(session: Session, old: Credential, new: Credential, old_status: str, reason: str, base_url: str) -> None:
    title = json.loads(new.document)["credentialSubject"]["achievement"]["name"]
    queue_mail(session, to=new.recipient_email, kind="credential_reissued",
               subject=f"Your credential “{title}” was re-issued",
               body=(f"Your micro-credential “{title}” was re-issued: {base_url.rstrip('/')}/credentials/"
                     f"{new.public_id}\n\nThe previous copy ({old.credential_id}) was {old_status}. "
                     f"Reason: {reason}\n\nShare the new link from now on, and replace the old copy in any wallet "
                     "or profile that holds it.\n"))
