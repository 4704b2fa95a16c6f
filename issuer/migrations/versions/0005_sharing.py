"""Sharing choices on credentials; OpenID4VCI credential offers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("visibility", sa.String(10), nullable=False, server_default="public"))
        batch.add_column(sa.Column("name_display", sa.String(10), nullable=False, server_default="full"))
        batch.add_column(sa.Column("indexable", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("shown_evidence", sa.JSON(), nullable=False, server_default="[]"))
    op.create_table(
        "credential_offers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("credential_row_id", sa.Integer(), sa.ForeignKey("credentials.id"), nullable=False, index=True),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("tx_code_hash", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("code_used_at", TS, nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("token_expires_at", TS, nullable=True),
        sa.Column("c_nonce", sa.String(64), nullable=True),
        sa.Column("c_nonce_expires_at", TS, nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.Column("holder", sa.String(500), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("credential_offers")
    with op.batch_alter_table("credentials") as batch:
        for column in ("shown_evidence", "indexable", "name_display", "visibility"):
            batch.drop_column(column)
