"""the year of a pilot as it happens: session changes, facts, reviews, charter deadlines

Sessions carry an audience, an RFC 5545 sequence, a status and the time they were first
announced; milestones record when they were missed; deliverables their review and revision;
pilots their own signing deadline and withdrawal; notices the iCalendar part they carry.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str) -> sa.Column:
    return sa.Column(name, models.db.UTCDateTime(timezone=True), nullable=True)


def upgrade() -> None:
    with op.batch_alter_table('trainingsession', schema=None) as batch_op:
        batch_op.add_column(sa.Column('audience', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('sequence', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                      server_default='prevue'))
        batch_op.add_column(sa.Column('cancel_reason', sa.Text(), nullable=True))
        batch_op.add_column(_instant('invited_at'))
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.add_column(_instant('missed_at'))
    with op.batch_alter_table('deliverable', schema=None) as batch_op:
        batch_op.add_column(_instant('accepted_at'))
        batch_op.add_column(_instant('returned_at'))
        batch_op.add_column(sa.Column('review_comment', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('revision', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('pilot', schema=None) as batch_op:
        batch_op.add_column(_instant('sign_by'))
        batch_op.add_column(_instant('withdrawn_at'))
        batch_op.add_column(sa.Column('withdraw_reason', sa.Text(), nullable=True))
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_column('calendar')
    with op.batch_alter_table('pilot', schema=None) as batch_op:
        batch_op.drop_column('withdraw_reason')
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('sign_by')
    with op.batch_alter_table('deliverable', schema=None) as batch_op:
        batch_op.drop_column('revision')
        batch_op.drop_column('review_comment')
        batch_op.drop_column('returned_at')
        batch_op.drop_column('accepted_at')
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_column('missed_at')
    with op.batch_alter_table('trainingsession', schema=None) as batch_op:
        batch_op.drop_column('invited_at')
        batch_op.drop_column('cancel_reason')
        batch_op.drop_column('status')
        batch_op.drop_column('sequence')
        batch_op.drop_column('audience')
