"""Credentials that expire: valid_for_months in the definition, validUntil, reminders, renewal.

Real database, real signatures, through the services and the CLI. Runs on SQLite and, with
MICROCRED_TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from flask import Flask
from sqlalchemy import func, select

from badge_classes import DefinitionInvalid, canonical_definition, content_hash, load_catalog, parse_definition
from badge_classes.catalog import PACKAGE_CATALOG
from issuer.catalog.form import definition_from_form, form_values
from issuer.catalog.versions import current_badge
from issuer.credentials.expiry import RENEWAL_WINDOW, add_months, queue_expiry_reminders, valid_until_for
from issuer.credentials.issuance import issue_credential
from issuer.credentials.status_lists import change_status, our_status_lists
from issuer.models import AuditEvent, Credential, District, Enrolment, OutboxMessage, User
from issuer.people.districts import programme_year
from issuer.workflow.reviews import decide
from issuer.workflow.submissions import SubmissionError, add_file, load, save_part, start, submit
from verifier import verify_credential
from verifier.report import Status
from verifier.status import status_list_checker

SLUG = "questioning-higher-order"  # expires after MONTHS in this module's catalogue
LASTING = "thinking-creative"  # no validity period
MONTHS = 24
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# ----- helpers -----

def _rt(app: Flask):
    return app.extensions["microcred"]


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def expiring_catalogue(root: Path, months: int = MONTHS, slug: str = SLUG) -> Path:
    """The shipped catalogue with `valid_for_months` set on one class."""
    shutil.copytree(PACKAGE_CATALOG / "config", root / "config")
    shutil.copytree(PACKAGE_CATALOG / "definitions", root / "definitions")
    path = root / "definitions" / f"{slug}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["valid_for_months"] = months
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return root


@pytest.fixture
def app(make_app, tmp_path: Path) -> Flask:
    return make_app(catalog_dir=str(expiring_catalogue(tmp_path / "catalog")))


def invoke(app: Flask, *args: str) -> Result:
    result = app.test_cli_runner().invoke(args=list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"`microcred {' '.join(args)}` crashed: {result.output}") from result.exception
    assert "Traceback" not in result.output
    return result


def verify_at(app: Flask, document: dict[str, Any], now: datetime):
    identity = _rt(app).identity()
    with _rt(app).database.transaction() as session:
        checker = status_list_checker(our_status_lists(session, identity), documents=identity.documents, now=now)
        return verify_credential(document, now=now, documents=identity.documents, status_checker=checker)


def fully_verified(report) -> bool:
    """Verified with nothing merely unknown: every check passed (the recipient check is skipped)."""
    return report.verified and all(c.status in (Status.PASSED, Status.SKIPPED) for c in report.checks)


@pytest.fixture
def people(app: Flask) -> dict[str, int]:
    """A TEAM teacher enrolled this programme year and two years ago; an assessor from another district."""
    now = _now()
    with _rt(app).database.transaction() as s:
        north, south = District(name="North District", code="N"), District(name="South District", code="S")
        s.add_all([north, south])
        s.flush()
        teacher = User(email="teacher@n.example", display_name="Terry Teacher", roles=["teacher"], district_id=north.id)
        assessor = User(email="assessor@s.example", display_name="Ada Assessor", roles=["assessor"],
                        district_id=south.id)
        s.add_all([teacher, assessor])
        s.flush()
        for year in sorted({programme_year(d.date()) for d in (now, add_months(now, -23), add_months(now, -25))}):
            s.add(Enrolment(user_id=teacher.id, district_id=north.id, pathway="team", year=year, created_by="test"))
        return {"teacher": teacher.id, "assessor": assessor.id}


def start_at(app: Flask, teacher_id: int, now: datetime, slug: str = SLUG) -> int:
    rt = _rt(app)
    with rt.database.transaction() as s:
        return start(s, teacher=s.get(User, teacher_id), slug=slug, limit=rt.settings.in_progress_limit,
                     now=now).submission.id


def earn_at(app: Flask, people: dict[str, int], now: datetime, slug: str = SLUG) -> Credential:
    """Start, fill every part, submit and approve, all at `now`; returns the credential."""
    sid = start_at(app, people["teacher"], now, slug)
    return complete_and_approve(app, people, sid, now)


def complete_and_approve(app: Flask, people: dict[str, int], sid: int, now: datetime) -> Credential:
    rt = _rt(app)
    with rt.database.transaction() as s:
        badge = load(s, sid).badge
    for part in badge.parts:
        if part.questions:
            with rt.database.transaction() as s:
                work = load(s, sid)
                save_part(s, work, teacher=s.get(User, people["teacher"]), part_id=part.id,
                          answers=["An answer."] * len(part.questions), links=[], revision=work.submission.revision,
                          now=now)
        for index, artifact in enumerate(part.artifacts):
            for n in range(artifact.min_files):
                with rt.database.transaction() as s:
                    work = load(s, sid)
                    add_file(s, work, teacher=s.get(User, people["teacher"]), part_id=part.id,
                             artifact_index=index, stream=io.BytesIO(PDF + f"{sid}-{part.id}-{index}-{n}".encode()),
                             filename=f"evidence-{n}.pdf", revision=work.submission.revision, max_bytes=1 << 20,
                             uploads_dir=rt.settings.uploads_dir, now=now)
    with rt.database.transaction() as s:
        work = load(s, sid)
        submit(s, work, teacher=s.get(User, people["teacher"]), revision=work.submission.revision, now=now)
    with rt.database.transaction() as s:
        work = load(s, sid)
        return decide(s, sid, assessor=s.get(User, people["assessor"]),
                      levels={c.id: badge.passing_level for c in badge.criteria}, feedback={}, overall="",
                      decision="earned", revision=work.submission.revision, identity=rt.identity(),
                      policy=rt.catalog.policy, own_district_allowed=True, now=now)


def issue_at(app: Flask, now: datetime, email: str, slug: str = SLUG) -> Credential:
    """An award made at `now` (in the past, for the clock-dependent tests), expiry as the class says."""
    rt = _rt(app)
    with rt.database.transaction() as s:
        badge = current_badge(s, slug)
        return issue_credential(s, badge, identity=rt.identity(), policy=rt.catalog.policy, recipient_email=email,
                                recipient_name="Jo Teacher", actor="test", now=now,
                                valid_until=valid_until_for(badge, now))


def outbox(app: Flask, kind: str) -> list[OutboxMessage]:
    with _rt(app).database.transaction() as s:
        return list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)))


# ----- the definition field -----

def _shipped() -> dict[str, Any]:
    return yaml.safe_load((PACKAGE_CATALOG / "definitions" / f"{SLUG}.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("value", [1, 36, 120])
def test_valid_for_months_is_accepted_and_part_of_the_content(value: int) -> None:
    frameworks = load_catalog().frameworks
    plain = parse_definition(_shipped(), frameworks, source="x")
    expiring = parse_definition({**_shipped(), "valid_for_months": value}, frameworks, source="x")
    assert (plain.valid_for_months, expiring.valid_for_months) == (None, value)
    assert "valid_for_months" not in canonical_definition(plain)  # absent: the content hash is what it was
    assert canonical_definition(expiring)["valid_for_months"] == value
    assert content_hash(expiring) != content_hash(plain)
    assert parse_definition(canonical_definition(expiring), frameworks, source="x") == expiring


@pytest.mark.parametrize("value", [0, 121, -3, "12", 1.5, True])
def test_valid_for_months_must_be_a_whole_number_from_1_to_120(value: Any) -> None:
    with pytest.raises(DefinitionInvalid) as caught:
        parse_definition({**_shipped(), "valid_for_months": value}, load_catalog().frameworks, source="x.yaml")
    assert [path for path, _ in caught.value.problems] == ["valid_for_months"]


def test_the_admin_form_carries_valid_for_months_in_its_yaml_block(app: Flask) -> None:
    with _rt(app).database.transaction() as s:
        badge = current_badge(s, SLUG)
    values = form_values(badge)
    assert yaml.safe_load(values["structured"])["valid_for_months"] == MONTHS
    rebuilt = parse_definition(definition_from_form(values, values["alignments"], image=None),
                               _rt(app).catalog.frameworks, source="form")
    assert rebuilt.valid_for_months == MONTHS and content_hash(rebuilt) == badge.content_hash
    with _rt(app).database.transaction() as s:
        lasting = form_values(current_badge(s, LASTING))
    assert "valid_for_months" not in yaml.safe_load(lasting["structured"])


@pytest.mark.parametrize(("start", "months", "end"), [
    ("2024-01-31T10:00:00", 1, "2024-02-29T10:00:00"),
    ("2023-01-31T10:00:00", 1, "2023-02-28T10:00:00"),
    ("2024-11-30T23:59:59", 3, "2025-02-28T23:59:59"),
    ("2024-03-15T08:00:00", 24, "2026-03-15T08:00:00"),
    ("2024-02-29T00:00:00", 120, "2034-02-28T00:00:00"),
    ("2024-03-31T00:00:00", -1, "2024-02-29T00:00:00"),
])
def test_add_months_counts_calendar_months_and_clamps_the_day(start: str, months: int, end: str) -> None:
    utc = UTC
    assert add_months(datetime.fromisoformat(start).replace(tzinfo=utc), months) == \
        datetime.fromisoformat(end).replace(tzinfo=utc)


# ----- issuance and verification -----

def test_cli_issue_carries_valid_until_and_the_credential_expires(app: Flask) -> None:
    result = invoke(app, "issue", "--achievement", SLUG, "--recipient-email", "t@example.org",
                    "--recipient-name", "Jo Teacher")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    issued = datetime.fromisoformat(document["validFrom"].replace("Z", "+00:00"))
    until = add_months(issued, MONTHS)
    assert document["validUntil"] == _iso(until)
    assert f"valid for {MONTHS} months" in document["credentialSubject"]["achievement"]["criteria"]["narrative"]
    with _rt(app).database.transaction() as s:
        row = s.scalars(select(Credential)).one()
        assert row.valid_until.replace(tzinfo=UTC) == until

    before = verify_at(app, document, until - timedelta(seconds=1))
    # Two years on, the status list fetched today is out of date ("status unknown", a warning): the rest passes.
    assert before.verified and all(before.check(c).status is Status.PASSED for c in ("proof", "issuer", "validity"))
    after = verify_at(app, document, until)
    assert not after.verified
    assert after.check("validity").ok is False and "expired" in after.check("validity").message
    # The expired date is the failure; the stale list adds only its "status unknown" note.
    assert [p.code for p in after.problems] == ["expired", "status_unknown"]


def test_a_class_without_a_validity_period_never_expires(app: Flask) -> None:
    result = invoke(app, "issue", "--achievement", LASTING, "--recipient-email", "t@example.org",
                    "--recipient-name", "Jo Teacher")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert "validUntil" not in document
    assert verify_at(app, document, _now() + timedelta(days=365 * 50)).check("validity").status is Status.PASSED
    with _rt(app).database.transaction() as s:
        assert s.scalars(select(Credential)).one().valid_until is None


# ----- renewal -----

def test_earned_credential_expires_months_later_and_is_renewed_near_the_end(app: Flask, people: dict[str, int]) -> None:
    now = _now()
    earned_at = add_months(now, -(MONTHS - 1))  # expires in about a month
    old = earn_at(app, people, earned_at)
    old_document = json.loads(old.document)
    assert old_document["validFrom"] == _iso(earned_at)
    assert old_document["validUntil"] == _iso(add_months(earned_at, MONTHS))
    assert verify_at(app, old_document, earned_at + timedelta(days=1)).check("validity").status is Status.PASSED

    # Not yet in the renewal window: refused, saying when it opens.
    with pytest.raises(SubmissionError) as refused:
        start_at(app, people["teacher"], earned_at + timedelta(days=1))
    opens = add_months(earned_at, MONTHS) - RENEWAL_WINDOW
    assert "valid until" in refused.value.message and f"{opens.day} {opens:%B %Y}" in refused.value.message

    # Within the window: the usual evidence flow again, and a new credential that supersedes the old one.
    sid = start_at(app, people["teacher"], now)
    with _rt(app).database.transaction() as s:
        started = s.scalars(select(AuditEvent).where(AuditEvent.action == "submission.started")
                            .order_by(AuditEvent.id.desc())).first()
        assert started.detail["renews"] == old.credential_id
    new = complete_and_approve(app, people, sid, now)
    document = json.loads(new.document)
    assert new.credential_id != old.credential_id and new.replaces_id == old.credential_id
    assert document["validFrom"] == _iso(now) and document["validUntil"] == _iso(add_months(now, MONTHS))
    digest = "sha256-" + base64.b64encode(hashlib.sha256(old.document.encode("utf-8")).digest()).decode()
    assert document["relatedResource"] == [{"id": old.credential_id, "digestSRI": digest}]
    report = verify_at(app, document, _now())  # not `now`: the status list may have been re-signed since
    assert fully_verified(report), report.checks
    with _rt(app).database.transaction() as s:
        assert s.get(Credential, old.id).status == "active"  # it expires on its own
        assert s.get(Credential, old.id).document == old.document

    # The renewal is now the current credential, far from expiry: no third start.
    with pytest.raises(SubmissionError, match="valid until"):
        start_at(app, people["teacher"], now)


def test_an_expired_credential_can_be_renewed(app: Flask, people: dict[str, int]) -> None:
    old = earn_at(app, people, add_months(_now(), -(MONTHS + 1)))
    assert not verify_at(app, json.loads(old.document), _now()).verified
    start_at(app, people["teacher"], _now())


def test_a_class_that_does_not_expire_cannot_be_started_again(app: Flask, people: dict[str, int]) -> None:
    earn_at(app, people, _now(), slug=LASTING)
    with pytest.raises(SubmissionError, match="does not expire"):
        start_at(app, people["teacher"], _now(), slug=LASTING)


def test_work_in_progress_is_still_refused(app: Flask, people: dict[str, int]) -> None:
    start_at(app, people["teacher"], _now())
    with pytest.raises(SubmissionError, match="already started"):
        start_at(app, people["teacher"], _now())


# ----- reminders -----

def test_reminders_are_queued_once_within_the_window(app: Flask) -> None:
    now = _now()

    def expiring_in(days: int, email: str) -> Credential:
        return issue_at(app, add_months(now + timedelta(days=days), -MONTHS), email)

    soon = expiring_in(30, "soon@example.org")
    later = expiring_in(100, "later@example.org")
    expiring_in(-5, "expired@example.org")
    revoked = expiring_in(10, "revoked@example.org")
    renewed = expiring_in(20, "renewed@example.org")
    with _rt(app).database.transaction() as s:
        change_status(s, s.get(Credential, revoked.id), "revoked", reason="issued in error", actor="test",
                      identity=_rt(app).identity())
        badge = current_badge(s, SLUG)
        issue_credential(s, badge, identity=_rt(app).identity(), policy=_rt(app).catalog.policy,
                         recipient_email="renewed@example.org", recipient_name="Jo Teacher", actor="test",
                         replaces=s.get(Credential, renewed.id), valid_until=valid_until_for(badge, now))

    result = invoke(app, "mail", "reminders", "--days", "60")
    assert result.exit_code == 0, result.output
    assert "Queued 1 expiry reminder(s)" in result.output
    [mail] = outbox(app, "expiry_reminder")
    assert mail.to_address == "soon@example.org"
    until = soon.valid_until.replace(tzinfo=UTC)
    assert f"{until.day} {until:%B %Y}" in mail.subject
    assert f"/credentials/{soon.public_id}" in mail.body and f"/achievements/{SLUG}" in mail.body

    with _rt(app).database.transaction() as s:  # again: nothing new
        assert queue_expiry_reminders(s, within_days=60, now=now, public_url="https://x.example") == 0
    assert "Queued 0" in invoke(app, "mail", "reminders").output

    assert "Queued 1" in invoke(app, "mail", "reminders", "--days", "120").output
    assert [m.to_address for m in outbox(app, "expiry_reminder")] == ["soon@example.org", "later@example.org"]
    with _rt(app).database.transaction() as s:
        reminded = s.scalars(select(AuditEvent.subject).where(AuditEvent.action == "credential.expiry_reminded")
                             .order_by(AuditEvent.id)).all()
    assert reminded == [soon.credential_id, later.credential_id]


def test_reminders_default_window_and_bad_days(app: Flask) -> None:
    issue_at(app, add_months(_now() + timedelta(days=59), -MONTHS), "a@example.org")
    issue_at(app, add_months(_now() + timedelta(days=61), -MONTHS), "b@example.org")
    assert "Queued 1" in invoke(app, "mail", "reminders").output
    assert invoke(app, "mail", "reminders", "--days", "0").exit_code == 2
    with _rt(app).database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 1
