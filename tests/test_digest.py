"""The coordinator's digest counts their own district's work only, over the chosen period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import select

from issuer.models import Attempt, District, Enrolment, OutboxMessage, Submission, User
from issuer.people.districts import programme_year


def test_digest_reports_the_districts_own_activity(app: Flask) -> None:
    rt = app.extensions["microcred"]
    now = datetime.now(UTC)
    year = programme_year(now.date())
    with rt.database.transaction() as s:
        mine, other = District(name="Hill Schools", code="HS"), District(name="Lake Schools", code="LS")
        s.add_all([mine, other])
        s.flush()
        coordinator = User(email="coord@hill.example", display_name="C", roles=["coordinator"], district_id=mine.id)
        teachers = [User(email=f"t{i}@hill.example", display_name=f"T{i}", roles=["teacher"], district_id=mine.id)
                    for i in range(3)]
        outsider = User(email="t@lake.example", display_name="L", roles=["teacher"], district_id=other.id)
        s.add_all([coordinator, outsider, *teachers])
        s.flush()
        for t in teachers:
            s.add(Enrolment(user_id=t.id, district_id=mine.id, pathway="team", year=year, created_by="test"))
        badge_class_id = s.scalar(select(Submission.badge_class_id).limit(1)) or 1

        def work(user, district, state, started, submitted=None, decision=None):
            sub = Submission(user_id=user.id, badge_class_id=badge_class_id, badge_version=1, district_id=district.id,
                             state=state, answers={}, started_at=started, updated_at=started)
            s.add(sub)
            s.flush()
            if submitted:
                s.add(Attempt(submission_id=sub.id, number=1, content={}, submitted_at=submitted,
                              decision=decision, decided_at=submitted + timedelta(hours=1) if decision else None))

        work(teachers[0], mine, "earned", now - timedelta(days=3), now - timedelta(days=2), "earned")
        work(teachers[1], mine, "submitted", now - timedelta(days=20), now - timedelta(days=1))
        work(teachers[1], mine, "not_yet", now - timedelta(days=30), now - timedelta(days=29), "not_yet")  # too old
        work(outsider, other, "submitted", now - timedelta(days=1), now - timedelta(hours=5))  # another district

    result = app.test_cli_runner().invoke(args=["mail", "digest", "--days", "7"])
    assert result.exit_code == 0, result.output
    with rt.database.transaction() as s:
        [message] = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "coordinator_digest")).all()
    assert message.to_address == "coord@hill.example"
    body = message.body
    assert "Started: 1" in body  # only teacher 0's work began in the last 7 days
    assert "Submitted for review: 2" in body  # teacher 0 and teacher 1 (the outsider is not counted)
    assert "Earned: 1" in body and "Returned not yet earned: 0" in body  # the not-yet is 29 days old
    assert "Now in progress: 1; waiting for an assessor: 1." in body
    assert "Teachers enrolled this year: 3; not started any micro-credential yet: 1." in body
