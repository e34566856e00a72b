"""pilot changes: a row per change to the rows a pilot's year is read from, written by triggers

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 23:00:00

The territory's page keeps each pilot's year read in its process (`models.read.pilot_year.YearCache`)
and checks it against one indexed aggregate of these rows instead of reading the year again. The
rows are written by the database (`models.pilot_changes`: a trigger per table for every INSERT,
UPDATE and DELETE, and on PostgreSQL for TRUNCATE); `models.db.migrate` makes them again after every
later upgrade (SQLite's batch mode drops a table's triggers with the table it copies).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models import pilot_changes

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pilot_change',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('pilot_id', sa.Integer(), nullable=False),
                    sa.Column('token', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_pilot_change_pilot_token', 'pilot_change', ['pilot_id', 'token'], unique=False)
    pilot_changes.ensure(op.get_bind())  # the years as they stand: every pilot stamped once


def downgrade() -> None:
    for statement in pilot_changes.drop_statements(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_index('ix_pilot_change_pilot_token', table_name='pilot_change')
    op.drop_table('pilot_change')
