"""a juror's « non applicable » is recorded as such, so that an untouched criterion stays missing

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Before this revision « non applicable » left no row at all: those criteria become missing
    # again, and the juror is asked (reminders, the selection waits) to mark them explicitly.
    op.create_table('jurynotapplicable',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('application_id', sa.Integer(), nullable=False),
                    sa.Column('juror', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
                    sa.Column('criterion', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
                    sa.Column('recorded_at', models.db.UTCDateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['application_id'], ['application.id']),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('application_id', 'juror', 'criterion'))
    with op.batch_alter_table('jurynotapplicable', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_jurynotapplicable_application_id'), ['application_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('jurynotapplicable', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_jurynotapplicable_application_id'))
    op.drop_table('jurynotapplicable')
