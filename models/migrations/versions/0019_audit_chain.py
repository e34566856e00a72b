"""the audit log becomes a hash chain per programme (chain, seq, hashes, erasable personal part)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 13:00:00

The entries already written are chained in id order, each chain (its programme, 0 without one)
from seq 1, with the version 1 serialisation of `models.audit_hash`: the chain then vouches for
them from this migration on, not before (whoever held the database earlier could have changed
them unseen).
"""

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db
from models.audit_hash import GENESIS, seal

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ('chain', 'seq', 'hash_version', 'prev_hash', 'entry_hash', 'personal_parts', 'personal_sha256',
            'redacted_at')


def _hex(name: str, length: int, nullable: bool) -> sa.Column:
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        for name in ('chain', 'seq', 'hash_version'):
            batch_op.add_column(sa.Column(name, sa.Integer(), nullable=True))
        for name in ('prev_hash', 'entry_hash', 'personal_sha256'):
            batch_op.add_column(_hex(name, 64, True))
        batch_op.add_column(sa.Column('personal_parts', sa.JSON(), nullable=False, server_default='{}'))
        batch_op.add_column(sa.Column('redacted_at', models.db.UTCDateTime(timezone=True), nullable=True))
    _backfill()
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        for name in ('chain', 'seq', 'hash_version'):
            batch_op.alter_column(name, existing_type=sa.Integer(), nullable=False)
        for name in ('prev_hash', 'entry_hash', 'personal_sha256'):
            batch_op.alter_column(name, existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.create_unique_constraint('uq_auditentry_chain_seq', ['chain', 'seq'])


def _backfill() -> None:
    """Chain every existing entry, in id order, per programme."""
    table = sa.table('auditentry', sa.column('id', sa.Integer()), sa.column('programme_id', sa.Integer()),
                     sa.column('at', models.db.UTCDateTime()), sa.column('recorded_at', models.db.UTCDateTime()),
                     sa.column('actor', sa.String()), sa.column('action', sa.String()),
                     sa.column('entity', sa.String()), sa.column('entity_id', sa.Integer()),
                     sa.column('summary', sa.Text()), sa.column('details', sa.JSON()),
                     *(sa.column(name, sa.JSON()) if name == 'personal_parts' else sa.column(name)
                       for name in _COLUMNS))
    bind = op.get_bind()
    heads: dict[int, tuple[int, str]] = {}
    updates: list[dict[str, Any]] = []
    for row in bind.execute(sa.select(table).order_by(table.c.id)).mappings():
        entry: Any = SimpleNamespace(**row)
        entry.chain = row['programme_id'] or 0
        entry.details = row['details'] if isinstance(row['details'], dict) else {}
        seal(entry, *heads.get(entry.chain, (0, GENESIS)))
        heads[entry.chain] = (entry.seq, entry.entry_hash)
        updates.append({'key': row['id'], **{name: getattr(entry, name) for name in _COLUMNS}, 'details': entry.details})
    if updates:
        statement = (table.update().where(table.c.id == sa.bindparam('key'))
                     .values({name: sa.bindparam(name) for name in (*_COLUMNS, 'details')}))
        bind.execute(statement, updates)


def downgrade() -> None:
    with op.batch_alter_table('auditentry', schema=None) as batch_op:
        batch_op.drop_constraint('uq_auditentry_chain_seq', type_='unique')
        for name in reversed(_COLUMNS):
            batch_op.drop_column(name)
