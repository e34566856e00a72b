"""one charter text per pilot, frozen at its first signature (chartertext); each signature keeps the
SHA-256 of the text it signed, the link or account it came by and its audit entry's id

Revision ID: 0020
Revises: 0022
Create Date: 2026-12-06 13:00:00

Signatures recorded before this revision get their SHA-256 and audit entry id back from their audit
entry (`charte.signee`, whose details kept `charte_sha256` and `partie`). Their text was never
stored: no `chartertext` row is made for them (the next signature freezes the text of that day).
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.db

revision: str = '0020'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _backfill() -> None:
    bind = op.get_bind()
    entries = bind.execute(sa.text(
        "SELECT id, entity_id, details FROM auditentry WHERE action = 'charte.signee' AND entity = 'pilot' "
        "ORDER BY id")).all()
    signature = sa.table('chartersignature', sa.column('id'), sa.column('pilot_id'), sa.column('party'),
                         sa.column('text_sha256'), sa.column('audit_entry_id'))
    for entry_id, pilot_id, details in entries:
        details = json.loads(details) if isinstance(details, str) else details
        party, sha = (details or {}).get('partie'), (details or {}).get('charte_sha256')
        if not isinstance(party, str) or pilot_id is None:
            continue
        bind.execute(signature.update()
                     .where(signature.c.pilot_id == pilot_id, signature.c.party == party)
                     .values(text_sha256=sha if isinstance(sha, str) else '', audit_entry_id=entry_id))


def upgrade() -> None:
    op.create_table('chartertext',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('pilot_id', sa.Integer(), nullable=False),
                    sa.Column('text', sa.Text(), nullable=False),
                    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
                    sa.Column('frozen_at', models.db.UTCDateTime(timezone=True), nullable=False),
                    sa.ForeignKeyConstraint(['pilot_id'], ['pilot.id'], ),
                    sa.PrimaryKeyConstraint('id'),
                    sa.UniqueConstraint('pilot_id'))
    op.add_column('chartersignature', sa.Column('text_sha256', sa.Text(), nullable=False, server_default=''))
    op.add_column('chartersignature', sa.Column('via', sa.Text(), nullable=False, server_default=''))
    op.add_column('chartersignature', sa.Column('via_person', sa.Text(), nullable=False, server_default=''))
    op.add_column('chartersignature', sa.Column('audit_entry_id', sa.Integer(), nullable=True))
    _backfill()


def downgrade() -> None:
    with op.batch_alter_table('chartersignature', schema=None) as batch_op:
        batch_op.drop_column('audit_entry_id')
        batch_op.drop_column('via_person')
        batch_op.drop_column('via')
        batch_op.drop_column('text_sha256')
    op.drop_table('chartertext')
