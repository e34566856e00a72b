"""the portal: personal links and their versions, one-time form tokens, answers to invitations,
conflicts of interest, submitted score sheets, files handed in, due-date requests; the role and
channel of a charter signature

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 05:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(), nullable=False)


def _instant(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, models.db.UTCDateTime(timezone=True), nullable=nullable)


def _index(table: str, column: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)


def upgrade() -> None:
    op.create_table('portalgrant',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('programme_id', sa.Integer(), nullable=False),
                    _text('subject'),
                    sa.Column('version', sa.Integer(), nullable=False),
                    _instant('issued_at'),
                    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], ),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('programme_id', 'subject'))
    _index('portalgrant', 'programme_id')
    op.create_table('portalformuse',
                    sa.Column('nonce', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
                    _text('subject'),
                    _instant('used_at'),
                    sa.PrimaryKeyConstraint('nonce'))
    op.create_table('sessionanswer',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('session_id', sa.Integer(), nullable=False),
                    _text('respondent'),
                    sa.Column('attending', sa.Boolean(), nullable=False),
                    sa.Column('people', sa.Text(), nullable=False, server_default=''),
                    _instant('answered_at'),
                    sa.ForeignKeyConstraint(['session_id'], ['trainingsession.id'], ),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('session_id', 'respondent'))
    _index('sessionanswer', 'session_id')
    op.create_table('conflictofinterest',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('application_id', sa.Integer(), nullable=False),
                    _text('juror'),
                    sa.Column('reason', sa.Text(), nullable=False, server_default=''),
                    _instant('declared_at'),
                    sa.ForeignKeyConstraint(['application_id'], ['application.id'], ),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('application_id', 'juror'))
    _index('conflictofinterest', 'application_id')
    op.create_table('jurysubmission',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('programme_id', sa.Integer(), nullable=False),
                    _text('juror'),
                    _instant('submitted_at'),
                    sa.ForeignKeyConstraint(['programme_id'], ['programme.id'], ),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('programme_id', 'juror'))
    _index('jurysubmission', 'programme_id')
    op.create_table('deliverablefile',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('deliverable_id', sa.Integer(), nullable=False),
                    sa.Column('revision', sa.Integer(), nullable=False),
                    _text('filename'),
                    _text('media_type'),
                    sa.Column('size', sa.Integer(), nullable=False),
                    _text('sha256'),
                    sa.Column('content', sa.LargeBinary(), nullable=False),
                    _instant('uploaded_at'),
                    sa.ForeignKeyConstraint(['deliverable_id'], ['deliverable.id'], ),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('deliverable_id', 'revision'))
    _index('deliverablefile', 'deliverable_id')
    op.create_table('duedaterequest',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('deliverable_id', sa.Integer(), nullable=False),
                    _instant('requested_due'),
                    sa.Column('reason', sa.Text(), nullable=False),
                    _instant('requested_at'),
                    _text('requested_by'),
                    _text('status'),
                    _instant('decided_at', nullable=True),
                    sa.ForeignKeyConstraint(['deliverable_id'], ['deliverable.id'], ),
                    sa.PrimaryKeyConstraint('id'))
    _index('duedaterequest', 'deliverable_id')
    with op.batch_alter_table('chartersignature', schema=None) as batch_op:
        batch_op.add_column(sa.Column('role', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('channel', sa.Text(), nullable=False, server_default='cli'))


def downgrade() -> None:
    with op.batch_alter_table('chartersignature', schema=None) as batch_op:
        batch_op.drop_column('channel')
        batch_op.drop_column('role')
    for table in ('duedaterequest', 'deliverablefile', 'jurysubmission', 'conflictofinterest', 'sessionanswer',
                  'portalformuse', 'portalgrant'):
        op.drop_table(table)
