"""what the last tick saw: the newest audit entry (did facts change since?) and the next planned instant

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.db

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audit_seen', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('next_due_at', models.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.drop_column('next_due_at')
        batch_op.drop_column('audit_seen')
