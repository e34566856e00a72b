"""programme data in the database; one word per concept

The register and the template overrides are stored with the programme (nothing at run time reads
a path recorded in a row); each notice keeps its core text for digests; the programme's `stage`
becomes its `state`; `consultancytask` becomes `deliverable`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 01:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'registersnapshot',
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('sha256'),
    )
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.add_column(sa.Column('templates', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('register_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
        batch_op.create_foreign_key('fk_programme_register_sha256', 'registersnapshot', ['register_sha256'],
                                    ['sha256'])
        batch_op.alter_column('stage', new_column_name='state', existing_type=sa.String(),
                              existing_nullable=False)
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('core_text', sa.Text(), nullable=False, server_default=''))
    with op.batch_alter_table('consultancytask', schema=None) as batch_op:
        batch_op.drop_index('ix_consultancytask_pilot_id')
    op.rename_table('consultancytask', 'deliverable')
    with op.batch_alter_table('deliverable', schema=None) as batch_op:
        batch_op.create_index('ix_deliverable_pilot_id', ['pilot_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('deliverable', schema=None) as batch_op:
        batch_op.drop_index('ix_deliverable_pilot_id')
    op.rename_table('deliverable', 'consultancytask')
    with op.batch_alter_table('consultancytask', schema=None) as batch_op:
        batch_op.create_index('ix_consultancytask_pilot_id', ['pilot_id'], unique=False)
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_column('core_text')
    with op.batch_alter_table('programme', schema=None) as batch_op:
        batch_op.alter_column('state', new_column_name='stage', existing_type=sa.String(),
                              existing_nullable=False)
        batch_op.drop_constraint('fk_programme_register_sha256', type_='foreignkey')
        batch_op.drop_column('register_sha256')
        batch_op.drop_column('templates')
    op.drop_table('registersnapshot')
