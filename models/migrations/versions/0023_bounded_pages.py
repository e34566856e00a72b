"""pages bounded by their person: a juror's scores and « non applicable » marks read by juror (the
juror's list: what is left to score), a programme's audit entries after an instant (`History`, on
every page showing a pilot's year: none after the present, found without reading the others)

Revision ID: 0023
Revises: 0024
Create Date: 2026-12-06 14:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0023'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_juryscore_juror_application', 'juryscore', ['juror', 'application_id'])
    op.create_index('ix_jurynotapplicable_juror_application', 'jurynotapplicable', ['juror', 'application_id'])
    op.create_index('ix_auditentry_programme_at', 'auditentry', ['programme_id', 'at'])


def downgrade() -> None:
    op.drop_index('ix_auditentry_programme_at', table_name='auditentry')
    op.drop_index('ix_jurynotapplicable_juror_application', table_name='jurynotapplicable')
    op.drop_index('ix_juryscore_juror_application', table_name='juryscore')
