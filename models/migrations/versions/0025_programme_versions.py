"""programme versions: each definition a programme ran under (the first install is version 1),
the programme's current version, and the last previewed change (`transitions programme diff`)

Revision ID: 0025
Revises: 0023
Create Date: 2026-12-06 16:30:00
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = '0025'
down_revision: str | None = '0023'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str) -> sa.Column:
    return sa.Column(name, models.db.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table('programme_version',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('programme_id', sa.Integer(), nullable=False),
                    sa.Column('number', sa.Integer(), nullable=False),
                    sa.Column('definition', sa.JSON(), nullable=False),
                    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
                    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
                    _instant('applied_at'),
                    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
                    sa.Column('reason', sa.Text(), server_default='', nullable=False),
                    sa.ForeignKeyConstraint(['programme_id'], ['programme.id']),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('programme_id', 'number'))
    op.create_index(op.f('ix_programme_version_programme_id'), 'programme_version', ['programme_id'])
    op.create_table('programme_preview',
                    sa.Column('programme_id', sa.Integer(), nullable=False),
                    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
                    sa.Column('version', sa.Integer(), nullable=False),
                    _instant('previewed_at'),
                    sa.ForeignKeyConstraint(['programme_id'], ['programme.id']),
                    sa.PrimaryKeyConstraint('programme_id'))
    # A plain ADD COLUMN (SQLite has it): a batch would copy the programme table, which every
    # programme's rows reference.
    op.add_column('programme', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    # Backfill: each installed programme's definition becomes its version 1 (same canonical hash
    # as models.programme_versions.canonical_sha256).
    connection = op.get_bind()
    programme = sa.table('programme', sa.column('id', sa.Integer()), sa.column('definition', sa.JSON()),
                         sa.column('source', sa.String()), sa.column('loaded_at', models.db.UTCDateTime()))
    version = sa.table('programme_version', sa.column('programme_id', sa.Integer()), sa.column('number', sa.Integer()),
                       sa.column('definition', sa.JSON()), sa.column('sha256', sa.String()),
                       sa.column('source', sa.String()), sa.column('applied_at', models.db.UTCDateTime()),
                       sa.column('actor', sa.String()), sa.column('reason', sa.Text()))
    for row in connection.execute(sa.select(programme)).all():
        definition = row.definition if isinstance(row.definition, dict) else json.loads(row.definition)
        canonical = json.dumps(definition, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        connection.execute(sa.insert(version).values(
            programme_id=row.id, number=1, definition=definition,
            sha256=hashlib.sha256(canonical.encode("utf-8")).hexdigest(), source=row.source or "",
            applied_at=row.loaded_at or datetime.now(UTC), actor="migration 0025",
            reason="Définition installée avant le suivi des versions."))


def downgrade() -> None:
    op.drop_column('programme', 'version')  # SQLite ≥ 3.35 drops a column in place, like PostgreSQL
    op.drop_table('programme_preview')
    op.drop_index(op.f('ix_programme_version_programme_id'), table_name='programme_version')
    op.drop_table('programme_version')
