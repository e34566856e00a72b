"""online applications: drafts written by their lead on the portal (applicationdraft, draftfile), and
an application withdrawn by its lead (application.withdrawn_at, application.withdrawal_reason)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'applicationdraft',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('programme_id', sa.Integer(), nullable=False),
        sa.Column('lead_siren', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('lead_name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('holders', sa.JSON(), nullable=False),
        sa.Column('created_at', models.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', models.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('requested_at', models.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('application_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.ForeignKeyConstraint(['programme_id'], ['programme.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('programme_id', 'lead_siren'),
    )
    op.create_index(op.f('ix_applicationdraft_programme_id'), 'applicationdraft', ['programme_id'], unique=False)
    op.create_table(
        'draftfile',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('draft_id', sa.Integer(), nullable=False),
        sa.Column('role', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('media_type', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('added_at', models.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['draft_id'], ['applicationdraft.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_draftfile_draft_id'), 'draftfile', ['draft_id'], unique=False)
    # Plain ADD COLUMN (nullable): a batch copy of « application » would trip the foreign keys
    # pointing at it on SQLite.
    op.add_column('application', sa.Column('withdrawn_at', models.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('application', sa.Column('withdrawal_reason', sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column('application', 'withdrawal_reason')
    op.drop_column('application', 'withdrawn_at')
    op.drop_index(op.f('ix_draftfile_draft_id'), table_name='draftfile')
    op.drop_table('draftfile')
    op.drop_index(op.f('ix_applicationdraft_programme_id'), table_name='applicationdraft')
    op.drop_table('applicationdraft')
