"""one `transitions serve` per database: the service lease (holder, heartbeat, expiry)

Revision ID: 0024
Revises: 0020
Create Date: 2026-12-06 14:00:00

Issue 25 gave this revision the number 0024 after 0022 (other slices' revisions); on this branch
it follows main's head when merged (0020, itself after 0022), and is re-chained when the branches are merged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = '0024'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str) -> sa.Column:
    return sa.Column(name, models.db.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table('service_lease',
                    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
                    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
                    sa.Column('host', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
                    sa.Column('pid', sa.Integer(), nullable=False),
                    _instant('since'),
                    _instant('heartbeat_at'),
                    _instant('expires_at'),
                    sa.PrimaryKeyConstraint('name'))


def downgrade() -> None:
    op.drop_table('service_lease')
