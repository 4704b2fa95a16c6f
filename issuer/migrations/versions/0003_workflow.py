"""Districts, enrolments, invitations, password resets, the mail outbox; submissions, their files,
attempts and judgements; credentials linked to the submission they were issued for (unique).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "districts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("district_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()))
        batch.create_foreign_key("fk_users_district", "districts", ["district_id"], ["id"])
        batch.create_index("ix_users_district_id", ["district_id"])
    op.create_table(
        "enrolments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("district_id", sa.Integer(), sa.ForeignKey("districts.id"), nullable=False, index=True),
        sa.Column("pathway", sa.String(20), nullable=False),
        sa.Column("year", sa.String(9), nullable=False, index=True),
        sa.Column("created_by", sa.String(320), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("user_id", "year"),
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("email", sa.String(320), nullable=False, index=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("district_id", sa.Integer(), sa.ForeignKey("districts.id"), nullable=True),
        sa.Column("pathway", sa.String(20), nullable=True),
        sa.Column("year", sa.String(9), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("invited_by", sa.String(320), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("accepted_at", TS, nullable=True),
    )
    op.create_table(
        "password_resets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("used_at", TS, nullable=True),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("to_address", sa.String(320), nullable=False, index=True),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False, index=True),
        sa.Column("created_at", TS, nullable=False, index=True),
        sa.Column("sent_at", TS, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(500), nullable=True),
    )
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False, index=True),
        sa.Column("badge_class_id", sa.Integer(), sa.ForeignKey("badge_classes.id"), nullable=False, index=True),
        sa.Column("badge_version", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), sa.ForeignKey("districts.id"), nullable=True, index=True),
        sa.Column("state", sa.String(20), nullable=False, index=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("submitted_at", TS, nullable=True, index=True),
        sa.Column("decided_at", TS, nullable=True),
    )
    op.create_table(
        "submission_files",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"), nullable=False, index=True),
        sa.Column("part_id", sa.String(80), nullable=False),
        sa.Column("artifact_index", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, index=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("uploaded_at", TS, nullable=False),
    )
    op.create_table(
        "attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("submission_id", sa.Integer(), sa.ForeignKey("submissions.id"), nullable=False, index=True),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("submitted_at", TS, nullable=False),
        sa.Column("decision", sa.String(20), nullable=True),
        sa.Column("decided_at", TS, nullable=True),
        sa.Column("assessor_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("feedback", sa.Text(), nullable=True),
        sa.UniqueConstraint("submission_id", "number"),
    )
    op.create_table(
        "judgements",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("attempt_id", sa.Integer(), sa.ForeignKey("attempts.id"), nullable=False, index=True),
        sa.Column("criterion_id", sa.String(80), nullable=False),
        sa.Column("level", sa.String(60), nullable=False),
        sa.Column("feedback", sa.Text(), nullable=False),
        sa.UniqueConstraint("attempt_id", "criterion_id"),
    )
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("submission_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_credentials_submission", "submissions", ["submission_id"], ["id"])
        batch.create_unique_constraint("uq_credentials_submission_id", ["submission_id"])


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_constraint("uq_credentials_submission_id", type_="unique")
        batch.drop_constraint("fk_credentials_submission", type_="foreignkey")
        batch.drop_column("submission_id")
    for table in ("judgements", "attempts", "submission_files", "submissions", "outbox", "password_resets",
                  "invitations", "enrolments"):
        op.drop_table(table)
    with op.batch_alter_table("users") as batch:
        batch.drop_index("ix_users_district_id")
        batch.drop_constraint("fk_users_district", type_="foreignkey")
        batch.drop_column("active")
        batch.drop_column("district_id")
    op.drop_table("districts")
