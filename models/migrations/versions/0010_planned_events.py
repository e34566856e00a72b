"""planned instants kept as rows (planned_event), read by index instead of re-planning; pending
notices by sending time (status, deliver_after)

Existing programmes forget what their last tick saw (audit_seen): their next tick runs every
stage, as after any recorded fact, and writes their planned_event rows.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('planned_event',
                    sa.Column('programme_id', sa.Integer(), nullable=False),
                    sa.Column('due_at', models.db.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('stage', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
                    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], ),
                    sa.PrimaryKeyConstraint('programme_id', 'due_at', 'stage'))
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index('ix_notice_status_deliver_after', ['status', 'deliver_after'], unique=False)
    op.execute(sa.text('UPDATE programme SET audit_seen = NULL'))


def downgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_status_deliver_after')
    op.drop_table('planned_event')
    op.execute(sa.text('UPDATE programme SET audit_seen = NULL'))
