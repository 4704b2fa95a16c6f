"""Submission and review services end to end: states, limits, stale forms, one credential per approval.

Runs on SQLite and, with MICROCRED_TEST_DATABASE_URL, on PostgreSQL, where concurrent approvals
really race each other.
"""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime

import pytest
from flask import Flask
from sqlalchemy import func, select

from issuer.errors import Forbidden
from issuer.models import (
    Attempt,
    AuditEvent,
    Credential,
    District,
    Enrolment,
    Judgement,
    OutboxMessage,
    Submission,
    User,
)
from issuer.models.work import seconds_between
from issuer.people.districts import programme_year
from issuer.workflow.reviews import AlreadyDecided, DecisionInvalid, decide, review_queue
from issuer.workflow.submissions import (
    Incomplete,
    LimitReached,
    StaleForm,
    SubmissionError,
    add_file,
    load,
    save_part,
    start,
    submit,
    withdraw,
)
from issuer.workflow.uploads import UploadRejected
from verifier import verify_credential

SLUG = "questioning-higher-order"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DOCX_LIKE = None  # built in a fixture (a real OOXML zip)


def _rt(app: Flask):
    return app.extensions["microcred"]


@pytest.fixture
def people(app: Flask) -> dict[str, int]:
    """Two districts; a teacher enrolled (TEAM pathway) in the first; assessors in each."""
    year = programme_year(datetime.now(UTC).date())
    with _rt(app).database.transaction() as s:
        north, south = District(name="North District", code="N"), District(name="South District", code="S")
        s.add_all([north, south])
        s.flush()
        teacher = User(email="teacher@n.example", display_name="Terry Teacher", roles=["teacher"], district_id=north.id)
        local = User(email="local@n.example", display_name="Lou Local", roles=["assessor"], district_id=north.id)
        other = User(email="other@s.example", display_name="Oli Other", roles=["assessor"], district_id=south.id)
        s.add_all([teacher, local, other])
        s.flush()
        s.add(Enrolment(user_id=teacher.id, district_id=north.id, pathway="team", year=year, created_by="test"))
        return {"teacher": teacher.id, "local": local.id, "other": other.id, "north": north.id}


def _user(s, uid: int) -> User:
    return s.get(User, uid)


def _complete(app: Flask, teacher_id: int, slug: str = SLUG) -> int:
    """Start and fill every part (answers and files) of a submission; returns its id (draft)."""
    rt = _rt(app)
    with rt.database.transaction() as s:
        teacher = _user(s, teacher_id)
        work = start(s, teacher=teacher, slug=slug, limit=rt.settings.in_progress_limit)
        sid = work.submission.id
    badge = load_own_badge(app, sid)
    for part in badge.parts:
        with rt.database.transaction() as s:
            work = load(s, sid)
            if part.questions:
                save_part(s, work, teacher=_user(s, teacher_id), part_id=part.id,
                          answers=[f"A considered answer about {part.title}."] * len(part.questions), links=[],
                          revision=work.submission.revision)
        for index, artifact in enumerate(part.artifacts):
            for n in range(artifact.min_files):
                with rt.database.transaction() as s:
                    work = load(s, sid)
                    ext = "pdf" if "pdf" in artifact.file_types else artifact.file_types[0]
                    assert ext == "pdf", artifact.file_types
                    add_file(s, work, teacher=_user(s, teacher_id), part_id=part.id, artifact_index=index,
                             stream=io.BytesIO(PDF + f"{part.id}-{index}-{n}".encode()), filename=f"evidence-{n}.pdf",
                             revision=work.submission.revision, max_bytes=1 << 20, uploads_dir=rt.settings.uploads_dir)
    return sid


def load_own_badge(app: Flask, sid: int):
    with _rt(app).database.transaction() as s:
        return load(s, sid).badge


def _submit(app: Flask, sid: int, teacher_id: int) -> None:
    with _rt(app).database.transaction() as s:
        work = load(s, sid)
        submit(s, work, teacher=_user(s, teacher_id), revision=work.submission.revision)


def _levels(app: Flask, sid: int, level: str | None = None) -> dict[str, str]:
    badge = load_own_badge(app, sid)
    return {c.id: level or badge.passing_level for c in badge.criteria}


def _decide(app: Flask, sid: int, assessor_id: int, decision: str = "earned", **kw):
    rt = _rt(app)
    levels = kw.pop("levels", None) or _levels(app, sid)  # before the transaction: SQLite allows one writer
    with rt.database.transaction() as s:
        work = load(s, sid)
        return decide(s, sid, assessor=_user(s, assessor_id), levels=levels,
                      feedback=kw.pop("feedback", {}), overall=kw.pop("overall", ""), decision=decision,
                      revision=kw.pop("revision", work.submission.revision), identity=rt.identity(),
                      policy=rt.catalog.policy, own_district_allowed=kw.pop("own_district_allowed", True))


def _count(app: Flask, model, *where) -> int:
    with _rt(app).database.transaction() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_the_whole_flow_not_yet_then_earned(app: Flask, people: dict[str, int]) -> None:
    sid = _complete(app, people["teacher"])
    _submit(app, sid, people["teacher"])
    badge = load_own_badge(app, sid)
    first = badge.criteria[0]
    levels = _levels(app, sid)
    levels[first.id] = badge.rubric_levels[1].name
    _decide(app, sid, people["other"], "not_yet", levels=levels, feedback={first.id: "Label each question's level."})
    with _rt(app).database.transaction() as s:
        sub = s.get(Submission, sid)
        assert sub.state == "not_yet"
        assert [(j.criterion_id, j.level) for j in sub.attempts[0].judgements if j.feedback] == \
               [(first.id, badge.rubric_levels[1].name)]
    assert _count(app, OutboxMessage, OutboxMessage.kind == "decision") == 1

    _submit(app, sid, people["teacher"])  # revise and resubmit: attempt 2
    credential = _decide(app, sid, people["other"], "earned")
    assert credential is not None and credential.submission_id == sid
    document = json.loads(credential.document)
    report = verify_credential(document, documents=_rt(app).identity().documents)
    assert report.verified, [c for c in report.checks if not c.ok]
    assert document["credentialSubject"]["achievement"]["version"] == "1"
    with _rt(app).database.transaction() as s:
        sub = s.get(Submission, sid)
        assert [a.decision for a in sub.attempts] == ["not_yet", "earned"]
        files = {f.sha256 for f in sub.files}
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.subject == f"submission:{sid}")
                            .order_by(AuditEvent.id)).all()
    assert actions == ["submission.started", "submission.submitted", "submission.not_yet", "submission.submitted",
                       "submission.earned"]
    evidence_text = json.dumps(document["evidence"])
    assert all(sha in evidence_text for sha in files)  # every file is evidenced by its digest
    assert "A considered answer" not in credential.document  # no answer text is published
    result_ids = {r["resultDescription"] for r in document["credentialSubject"]["result"]}
    described = {d["id"] for d in document["credentialSubject"]["achievement"]["resultDescription"]}
    assert result_ids == described


def test_the_programme_facts_follow_the_work(app: Flask, people: dict[str, int]) -> None:
    """What the dashboards aggregate (docs/programme-data.md): the year the work was started, and on each
    attempt its work's year, district and badge class and its durations, written as the work moves."""
    sid = _complete(app, people["teacher"])
    _submit(app, sid, people["teacher"])
    badge = load_own_badge(app, sid)
    levels = _levels(app, sid)
    levels[badge.criteria[0].id] = badge.rubric_levels[1].name
    _decide(app, sid, people["other"], "not_yet", levels=levels, feedback={badge.criteria[0].id: "Say more."})
    _submit(app, sid, people["teacher"])
    with _rt(app).database.transaction() as s:
        work = load(s, sid)
        withdraw(s, work, teacher=_user(s, people["teacher"]), revision=work.submission.revision)
    with _rt(app).database.transaction() as s:
        sub = s.get(Submission, sid)
        assert sub.year == programme_year(sub.started_at.date())
        assert [a.decision for a in sub.attempts] == ["not_yet", "withdrawn"]
        for a in sub.attempts:
            assert (a.work_year, a.district_id, a.badge_class_id) == (sub.year, people["north"], sub.badge_class_id)
            assert a.seconds_from_start == seconds_between(a.submitted_at, sub.started_at)
            assert a.seconds_to_decision == seconds_between(a.decided_at, a.submitted_at)


def test_incomplete_work_cannot_be_submitted(app: Flask, people: dict[str, int]) -> None:
    rt = _rt(app)
    with rt.database.transaction() as s:
        sid = start(s, teacher=_user(s, people["teacher"]), slug=SLUG, limit=3).submission.id
    with pytest.raises(Incomplete) as excinfo:
        _submit(app, sid, people["teacher"])
    assert any("upload" in m for m in excinfo.value.missing) and any("answer question 1" in m for m in excinfo.value.missing)
    assert _count(app, Attempt) == 0


def test_a_stale_form_is_refused_and_the_saved_draft_kept(app: Flask, people: dict[str, int]) -> None:
    rt = _rt(app)
    with rt.database.transaction() as s:
        work = start(s, teacher=_user(s, people["teacher"]), slug=SLUG, limit=3)
        sid, stale = work.submission.id, work.submission.revision
        part = work.badge.parts[0]
        save_part(s, work, teacher=_user(s, people["teacher"]), part_id=part.id,
                  answers=["first"] * len(part.questions), links=[], revision=stale)
    with pytest.raises(StaleForm), rt.database.transaction() as s:
        save_part(s, load(s, sid), teacher=_user(s, people["teacher"]), part_id=part.id,
                  answers=["second"] * len(part.questions), links=[], revision=stale)
    with rt.database.transaction() as s:
        assert s.get(Submission, sid).answers[part.id]["answers"][0] == "first"


def test_the_in_progress_limit_and_restarting(app: Flask, people: dict[str, int]) -> None:
    rt = _rt(app)
    slugs = ["questioning-higher-order", "questioning-wait-time-equity", "thinking-analytical"]
    with rt.database.transaction() as s:
        for slug in slugs[:2]:
            start(s, teacher=_user(s, people["teacher"]), slug=slug, limit=2)
    with pytest.raises(LimitReached, match="2 micro-credential"), rt.database.transaction() as s:
        start(s, teacher=_user(s, people["teacher"]), slug=slugs[2], limit=2)
    with pytest.raises(SubmissionError, match="already started"), rt.database.transaction() as s:
        start(s, teacher=_user(s, people["teacher"]), slug=slugs[0], limit=5)
    with rt.database.transaction() as s:  # withdrawing frees a place
        mine = s.scalars(select(Submission).where(Submission.user_id == people["teacher"])).first()
        withdraw(s, load(s, mine.id), teacher=_user(s, people["teacher"]), revision=mine.revision)
        start(s, teacher=_user(s, people["teacher"]), slug=slugs[2], limit=2)


def test_a_teacher_leader_class_is_refused_to_a_team_teacher(app: Flask, people: dict[str, int]) -> None:
    with pytest.raises(SubmissionError, match="Teacher-leader pathway"), _rt(app).database.transaction() as s:
        start(s, teacher=_user(s, people["teacher"]), slug="leader-peer-coaching-cycle", limit=3)


def test_uploads_are_checked_by_content_and_size(app: Flask, people: dict[str, int]) -> None:
    rt = _rt(app)
    with rt.database.transaction() as s:
        work = start(s, teacher=_user(s, people["teacher"]), slug=SLUG, limit=3)
        sid = work.submission.id
    part = next(p for p in load_own_badge(app, sid).parts if p.artifacts)
    cases = [("plan.pdf", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "does not contain"),
             ("plan.exe", PDF, "accepts"), ("plan.pdf", PDF * 40000, "larger than"), ("plan.pdf", b"", "empty")]
    for filename, data, message in cases:
        with pytest.raises(UploadRejected, match=message), rt.database.transaction() as s:
            work = load(s, sid)
            add_file(s, work, teacher=_user(s, people["teacher"]), part_id=part.id, artifact_index=0,
                     stream=io.BytesIO(data), filename=filename, revision=work.submission.revision,
                     max_bytes=1 << 20, uploads_dir=rt.settings.uploads_dir)
    with rt.database.transaction() as s:
        assert s.get(Submission, sid).files == []


def test_decision_rules(app: Flask, people: dict[str, int]) -> None:
    sid = _complete(app, people["teacher"])
    _submit(app, sid, people["teacher"])
    badge = load_own_badge(app, sid)
    low = badge.rubric_levels[-1].name
    with pytest.raises(DecisionInvalid, match="every criterion"):
        _decide(app, sid, people["other"], "earned", levels=_levels(app, sid, low))
    with pytest.raises(DecisionInvalid, match="Give feedback"):
        _decide(app, sid, people["other"], "not_yet", levels=_levels(app, sid, low))
    with pytest.raises(DecisionInvalid, match="so the work is earned"):
        _decide(app, sid, people["other"], "not_yet")
    with pytest.raises(DecisionInvalid, match="Choose a level"):
        _decide(app, sid, people["other"], "earned", levels={badge.criteria[0].id: badge.passing_level})
    with pytest.raises(Forbidden, match="own district"):
        _decide(app, sid, people["local"], own_district_allowed=False)
    assert _count(app, Judgement) == 0 and _count(app, Credential) == 0
    with _rt(app).database.transaction() as s:
        assert s.get(Submission, sid).state == "submitted"


def test_nobody_reviews_their_own_work(app: Flask, people: dict[str, int]) -> None:
    with _rt(app).database.transaction() as s:
        _user(s, people["teacher"]).roles = ["teacher", "assessor"]
    sid = _complete(app, people["teacher"])
    _submit(app, sid, people["teacher"])
    with pytest.raises(Forbidden, match="your own work"):
        _decide(app, sid, people["teacher"])
    with _rt(app).database.transaction() as s:
        queue = review_queue(s, assessor=_user(s, people["teacher"]), own_district_allowed=True, blind=True)
        assert queue == []
        others = review_queue(s, assessor=_user(s, people["local"]), own_district_allowed=False, blind=True)
        assert others == []  # same district, and the setting forbids it
        assert [i.submission_id for i in review_queue(s, assessor=_user(s, people["other"]),
                                                      own_district_allowed=False, blind=True)] == [sid]


def test_a_second_approval_is_refused_and_issues_nothing(app: Flask, people: dict[str, int]) -> None:
    sid = _complete(app, people["teacher"])
    _submit(app, sid, people["teacher"])
    with _rt(app).database.transaction() as s:
        revision = s.get(Submission, sid).revision
    _decide(app, sid, people["other"], revision=revision)
    with pytest.raises(AlreadyDecided):
        _decide(app, sid, people["local"], revision=revision)  # the same form, submitted again
    assert _count(app, Credential, Credential.submission_id == sid) == 1


def test_concurrent_approvals_make_exactly_one_credential(app: Flask, people: dict[str, int]) -> None:
    """Eight approvals of one submission at the same moment, each in its own transaction."""
    sid = _complete(app, people["teacher"])
    _submit(app, sid, people["teacher"])
    with _rt(app).database.transaction() as s:
        revision = s.get(Submission, sid).revision
    _rt(app).identity()  # open the key store once, outside the race
    barrier, outcomes, lock = threading.Barrier(8), [], threading.Lock()

    def approve() -> None:
        barrier.wait()
        try:
            _decide(app, sid, people["other"], revision=revision)
            outcome = "issued"
        except AlreadyDecided:
            outcome = "already decided"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=approve) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(outcomes) == ["already decided"] * 7 + ["issued"]
    assert _count(app, Credential, Credential.submission_id == sid) == 1
    assert _count(app, Judgement) == len(_levels(app, sid))
