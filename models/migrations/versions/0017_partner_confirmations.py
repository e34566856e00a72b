"""partners confirm by their own link (partnerconfirmation), and a draft's file keeps the description
the application gives it (draftfile.description)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-11 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=False)


def upgrade() -> None:
    op.create_table('partnerconfirmation',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('programme_id', sa.Integer(), nullable=False),
                    _text('lead_siren'),
                    _text('lead_name'),
                    sa.Column('number', sa.Integer(), nullable=False),
                    _text('fingerprint'),
                    _text('partner_name'),
                    _text('contact_email'),
                    sa.Column('line', sa.JSON(), nullable=False),
                    sa.Column('excerpt', sa.Text(), nullable=False),
                    _text('state'),
                    sa.Column('requested_at', models.db.UTCDateTime(timezone=True), nullable=False),
                    _text('requested_by'),
                    sa.Column('answered_at', models.db.UTCDateTime(timezone=True), nullable=True),
                    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], ),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('programme_id', 'lead_siren', 'number'),
                    sa.UniqueConstraint('programme_id', 'lead_siren', 'fingerprint'))
    op.create_index(op.f('ix_partnerconfirmation_programme_id'), 'partnerconfirmation', ['programme_id'],
                    unique=False)
    op.add_column('draftfile', sa.Column('description', sqlmodel.sql.sqltypes.AutoString(), nullable=False,
                                         server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('draftfile', schema=None) as batch_op:
        batch_op.drop_column('description')
    op.drop_index(op.f('ix_partnerconfirmation_programme_id'), table_name='partnerconfirmation')
    op.drop_table('partnerconfirmation')
