"""Programme data (issue 8): teachers' feedback surveys, and the indexes the dashboards query by.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
# Covering indexes of the dashboards' queries (issuer/models/programme.py says why).
DASHBOARD_INDEXES = [
    ("ix_submissions_programme", "submissions", ["started_at", "district_id", "badge_class_id", "state"]),
    ("ix_submissions_user_activity", "submissions", ["user_id", "updated_at"]),
    ("ix_attempts_programme", "attempts", ["submission_id", "number", "decision", "submitted_at", "decided_at"]),
    ("ix_attempts_decided", "attempts", ["decided_at", "decision", "assessor_id", "submitted_at"]),
    ("ix_attempts_submitted", "attempts", ["submitted_at"]),
]


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
    op.create_index("ix_survey_responses_district_id", "survey_responses", ["district_id"])
    op.create_index("ix_survey_responses_year_badge", "survey_responses", ["year", "badge_class_id"])
    for name, table, columns in DASHBOARD_INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(DASHBOARD_INDEXES):
        op.drop_index(name, table)
    op.drop_index("ix_survey_responses_year_badge", "survey_responses")
    op.drop_index("ix_survey_responses_district_id", "survey_responses")
    op.drop_index("ix_survey_responses_year", "survey_responses")
    op.drop_index("ix_survey_responses_user_id", "survey_responses")
    op.drop_table("survey_responses")
