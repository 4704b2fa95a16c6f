"""Programme data (issue 8): teachers' feedback surveys, the programme facts the dashboards group
by (the year work was started; on attempts, copies of their submission's year, district and badge
class, and durations in seconds; back-filled here), and the indexes the dashboards query by.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
ATTEMPT_FACTS = [("work_year", sa.String(9)), ("district_id", sa.Integer()), ("badge_class_id", sa.Integer()),
                 ("seconds_from_start", sa.Integer()), ("seconds_to_decision", sa.Integer())]
# Covering indexes of the dashboards' queries (issuer/models/programme.py says why).
DASHBOARD_INDEXES = [
    ("ix_submissions_programme", "submissions", ["year", "district_id", "badge_class_id", "state"]),
    ("ix_submissions_started", "submissions", ["started_at"]),
    ("ix_submissions_user_activity", "submissions", ["user_id", "updated_at"]),
    ("ix_attempts_programme", "attempts", ["work_year", "district_id", "badge_class_id", "number", "decision",
                                           "seconds_from_start", "seconds_to_decision"]),
    ("ix_attempts_decided", "attempts", ["decided_at", "decision", "assessor_id", "seconds_to_decision"]),
    ("ix_attempts_assessor", "attempts", ["assessor_id", "decided_at", "decision", "seconds_to_decision"]),
    ("ix_attempts_submitted", "attempts", ["submitted_at"]),
    ("ix_attempts_district", "attempts", ["district_id", "submitted_at", "decided_at", "decision"]),
    ("ix_enrolments_programme", "enrolments", ["year", "district_id", "pathway", "user_id", "created_at"]),
    ("ix_survey_responses_programme", "survey_responses", ["year", "kind", "badge_class_id", "quality", "rigour",
                                                           "relevance", "resources", "hours", "worked_with"]),
    ("ix_survey_responses_district", "survey_responses", ["district_id", "year", "kind", "badge_class_id"]),
]
BATCH = 2000


def upgrade() -> None:
    op.create_table(
        "survey_responses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("year", sa.String(9), nullable=False),
        sa.Column("attempt_id", sa.Integer(), sa.ForeignKey("attempts.id"), nullable=True),
        sa.Column("end_of_year", sa.String(9), nullable=True),
        sa.Column("badge_class_id", sa.Integer(), sa.ForeignKey("badge_classes.id"), nullable=True),
        sa.Column("district_id", sa.Integer(), sa.ForeignKey("districts.id"), nullable=True),
        sa.Column("quality", sa.SmallInteger(), nullable=True),
        sa.Column("rigour", sa.SmallInteger(), nullable=True),
        sa.Column("relevance", sa.SmallInteger(), nullable=True),
        sa.Column("resources", sa.SmallInteger(), nullable=True),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("worked_with", sa.String(12), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.UniqueConstraint("attempt_id"),
        sa.UniqueConstraint("user_id", "end_of_year"),
    )
    op.create_index("ix_survey_responses_user_id", "survey_responses", ["user_id"])
    op.create_index("ix_survey_responses_year", "survey_responses", ["year"])
    with op.batch_alter_table("submissions") as batch:  # nullable columns: SQLite adds them in place
        batch.add_column(sa.Column("year", sa.String(9), nullable=True))
    with op.batch_alter_table("attempts") as batch:
        for name, type_ in ATTEMPT_FACTS:
            batch.add_column(sa.Column(name, type_, nullable=True))
    _backfill(op.get_bind())
    for name, table, columns in DASHBOARD_INDEXES:
        op.create_index(name, table, columns)


def _year_of(moment: datetime) -> str:
    day = (moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)).date()
    start = day.year if day.month >= 7 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def _seconds(later: datetime, earlier: datetime) -> int:
    def utc(m: datetime) -> datetime:
        return m.replace(tzinfo=UTC) if m.tzinfo is None else m.astimezone(UTC)
    return round((utc(later) - utc(earlier)).total_seconds())


def _backfill(connection: sa.Connection) -> None:
    """The year of every existing submission and the facts of every attempt, in batches (portable SQL;
    a frozen copy of the rules in issuer/models/work.py)."""
    subs = sa.table("submissions", sa.column("id", sa.Integer), sa.column("started_at", TS), sa.column("year", sa.String),
                    sa.column("district_id", sa.Integer), sa.column("badge_class_id", sa.Integer))
    atts = sa.table("attempts", sa.column("id", sa.Integer), sa.column("submission_id", sa.Integer),
                    sa.column("submitted_at", TS), sa.column("decided_at", TS),
                    *(sa.column(name, type_) for name, type_ in ATTEMPT_FACTS))
    rows = connection.execute(sa.select(subs.c.id, subs.c.started_at)).all()
    update = sa.update(subs).where(subs.c.id == sa.bindparam("sid")).values(year=sa.bindparam("y"))
    for i in range(0, len(rows), BATCH):
        connection.execute(update, [{"sid": sid, "y": _year_of(started)} for sid, started in rows[i:i + BATCH]])
    rows = connection.execute(sa.select(atts.c.id, atts.c.submitted_at, atts.c.decided_at, subs.c.started_at,
                                        subs.c.district_id, subs.c.badge_class_id)
                              .join(subs, subs.c.id == atts.c.submission_id)).all()
    update = (sa.update(atts).where(atts.c.id == sa.bindparam("aid"))
              .values(work_year=sa.bindparam("y"), district_id=sa.bindparam("d"), badge_class_id=sa.bindparam("b"),
                      seconds_from_start=sa.bindparam("s"), seconds_to_decision=sa.bindparam("r")))
    for i in range(0, len(rows), BATCH):
        connection.execute(update, [{"aid": aid, "y": _year_of(started), "d": district, "b": badge,
                                     "s": _seconds(sent, started), "r": _seconds(decided, sent) if decided else None}
                                    for aid, sent, decided, started, district, badge in rows[i:i + BATCH]])


def downgrade() -> None:
    for name, table, _columns in reversed(DASHBOARD_INDEXES):
        op.drop_index(name, table)
    with op.batch_alter_table("attempts") as batch:
        for name, _type in reversed(ATTEMPT_FACTS):
            batch.drop_column(name)
    with op.batch_alter_table("submissions") as batch:
        batch.drop_column("year")
    op.drop_index("ix_survey_responses_year", "survey_responses")
    op.drop_index("ix_survey_responses_user_id", "survey_responses")
    op.drop_table("survey_responses")
