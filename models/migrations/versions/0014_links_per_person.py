"""personal links per person: each contact of a party holds their own link version (portalgrant.person),
and when a new link was last asked for from the portal (portalgrant.requested_at)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-09 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMES = {'uq': 'uq_%(table_name)s_%(column_0_name)s_%(column_1_name)s'}
"""SQLite's unique constraint of 0009 has no name: batch mode names it by this convention to drop it."""


def _old_unique() -> str:
    # PostgreSQL named 0009's constraint itself; SQLite's is named by `NAMES` in batch mode.
    return ('portalgrant_programme_id_subject_key' if op.get_bind().dialect.name == 'postgresql'
            else 'uq_portalgrant_programme_id_subject')


def upgrade() -> None:
    # Links issued before this revision belong to the party (person ''): they keep working.
    with op.batch_alter_table('portalgrant', schema=None, naming_convention=NAMES) as batch_op:
        batch_op.add_column(sa.Column('person', sqlmodel.sql.sqltypes.AutoString(), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('requested_at', models.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(_old_unique(), type_='unique')
        batch_op.create_unique_constraint('uq_portalgrant_person', ['programme_id', 'subject', 'person'])


def downgrade() -> None:
    # Only the party's own links survive a downgrade: the personal ones would break its uniqueness.
    op.execute("DELETE FROM portalgrant WHERE person <> ''")
    with op.batch_alter_table('portalgrant', schema=None, naming_convention=NAMES) as batch_op:
        batch_op.drop_constraint('uq_portalgrant_person', type_='unique')
        batch_op.create_unique_constraint(_old_unique(), ['programme_id', 'subject'])
        batch_op.drop_column('requested_at')
        batch_op.drop_column('person')
