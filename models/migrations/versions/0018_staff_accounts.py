"""staff accounts: members, single-use links, recovery codes, sessions, refused sign-ins

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-11 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(name: str, nullable: bool = False, length: int | None = None) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def _instant(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, models.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table('staff_member',
                    sa.Column('id', sa.Integer(), nullable=False),
                    _text('email'),
                    _text('name'),
                    _text('role'),
                    sa.Column('active', sa.Boolean(), nullable=False),
                    sa.Column('password_hash', sa.Text(), nullable=True),
                    _text('totp_secret', nullable=True),
                    sa.Column('totp_last_step', sa.Integer(), nullable=True),
                    _instant('enrolled_at', nullable=True),
                    _instant('created_at'),
                    _instant('disabled_at', nullable=True),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('email'))
    op.create_table('staff_token',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('staff_id', sa.Integer(), nullable=False),
                    _text('purpose'),
                    _text('digest', length=64),
                    _instant('created_at'),
                    _instant('expires_at'),
                    _instant('used_at', nullable=True),
                    sa.ForeignKeyConstraint(['staff_id'], ['staff_member.id'], ),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('digest'))
    op.create_table('staff_recovery_code',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('staff_id', sa.Integer(), nullable=False),
                    _text('digest', length=64),
                    _instant('used_at', nullable=True),
                    sa.ForeignKeyConstraint(['staff_id'], ['staff_member.id'], ),
                    sa.PrimaryKeyConstraint('id'))
    op.create_table('staff_session',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('staff_id', sa.Integer(), nullable=False),
                    _text('digest', length=64),
                    _text('address'),
                    _instant('created_at'),
                    _instant('last_seen_at'),
                    _instant('expires_at'),
                    _instant('revoked_at', nullable=True),
                    sa.ForeignKeyConstraint(['staff_id'], ['staff_member.id'], ),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('digest'))
    op.create_table('staff_signin_failure',
                    sa.Column('id', sa.Integer(), nullable=False),
                    _instant('at'),
                    _text('email'),
                    _text('address'),
                    sa.PrimaryKeyConstraint('id'))
    for table in ('staff_token', 'staff_recovery_code', 'staff_session'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_staff_id'), ['staff_id'], unique=False)
    with op.batch_alter_table('staff_signin_failure', schema=None) as batch_op:
        for column in ('at', 'email', 'address'):
            batch_op.create_index(batch_op.f(f'ix_staff_signin_failure_{column}'), [column], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff_signin_failure', schema=None) as batch_op:
        for column in ('at', 'email', 'address'):
            batch_op.drop_index(batch_op.f(f'ix_staff_signin_failure_{column}'))
    for table in ('staff_token', 'staff_recovery_code', 'staff_session'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_staff_id'))
    for table in ('staff_signin_failure', 'staff_session', 'staff_recovery_code', 'staff_token', 'staff_member'):
        op.drop_table(table)
