"""Credential expiry and re-issue: the validUntil of each credential as a column (reminders and renewals
query it), and at most one credential replacing any other.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""
import json
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("valid_until", TS, nullable=True))
        batch.create_index("ix_credentials_valid_until", ["valid_until"])
        batch.create_unique_constraint("uq_credentials_replaces_id", ["replaces_id"])
    # Credentials stored before this revision carry validUntil only in their signed document.
    credentials = sa.table("credentials", sa.column("id", sa.Integer()), sa.column("document", sa.Text()),
                           sa.column("valid_until", TS))
    connection = op.get_bind()
    rows = connection.execute(sa.select(credentials.c.id, credentials.c.document)
                              .where(credentials.c.document.like('%"validUntil"%'))).all()
    for row_id, document in rows:
        until = json.loads(document).get("validUntil")
        if isinstance(until, str):
            moment = datetime.fromisoformat(until.replace("Z", "+00:00"))
            connection.execute(credentials.update().where(credentials.c.id == row_id).values(valid_until=moment))


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_constraint("uq_credentials_replaces_id", type_="unique")
        batch.drop_index("ix_credentials_valid_until")
        batch.drop_column("valid_until")
