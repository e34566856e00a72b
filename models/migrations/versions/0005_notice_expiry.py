"""notices that still make sense: planned and expiry instants

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.db

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('planned_at', models.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('expires_at', models.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE notice SET planned_at = deliver_after")


def downgrade() -> None:
    op.execute("UPDATE notice SET status = 'abandonne' WHERE status = 'expire'")
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('planned_at')
