"""notices keep the personal link they carry, so that a digest can list it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 08:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Notices queued before this revision keep no link: a digest lists them without one.
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_column('link')
