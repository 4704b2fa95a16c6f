"""Bitstring status lists and entries; credential status, reason and the credential a re-issue replaces.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "status_lists",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("list_id", sa.String(40), nullable=False, unique=True),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("status_size", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("allocated", sa.Integer(), nullable=False),
        sa.Column("bits", sa.LargeBinary(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("signed_document", sa.Text(), nullable=True),
        sa.Column("signed_revision", sa.Integer(), nullable=True),
        sa.Column("signed_until", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_table(
        "status_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("status_list_id", sa.Integer(), sa.ForeignKey("status_lists.id"), nullable=False, index=True),
        sa.Column("list_index", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(200), nullable=False, unique=True),
        sa.UniqueConstraint("status_list_id", "list_index"),
    )
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("status", sa.String(20), nullable=False, server_default="active"))
        batch.add_column(sa.Column("status_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("status_changed_at", TS, nullable=True))
        batch.add_column(sa.Column("replaces_id", sa.String(200), nullable=True))
        batch.create_index("ix_credentials_status", ["status"])


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_index("ix_credentials_status")
        for column in ("replaces_id", "status_changed_at", "status_reason", "status"):
            batch.drop_column(column)
    op.drop_table("status_entries")
    op.drop_table("status_lists")
