"""the call's mailbox: the ledger of the messages processed (mailmessage)

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-10 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=False)


def upgrade() -> None:
    op.create_table('mailmessage',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('programme_id', sa.Integer(), nullable=False),
                    sa.Column('message_key', sa.Text(), nullable=False),
                    _text('content_sha256'),
                    _text('raw_sha256'),
                    _text('sender'),
                    _text('subject'),
                    sa.Column('size', sa.Integer(), nullable=False),
                    sa.Column('received_at', models.db.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('processed_at', models.db.UTCDateTime(timezone=True), nullable=False),
                    _text('outcome'),
                    sa.Column('application_id', sa.Integer(), nullable=True),
                    sa.Column('problems', sa.JSON(), nullable=False),
                    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ),
                    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], ),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('programme_id', 'message_key', name='uq_mailmessage_key'))
    with op.batch_alter_table('mailmessage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailmessage_programme_id'), ['programme_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mailmessage_content_sha256'), ['content_sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('mailmessage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mailmessage_content_sha256'))
        batch_op.drop_index(batch_op.f('ix_mailmessage_programme_id'))
    op.drop_table('mailmessage')
