"""the consultancy's « livrables » keep one word: notice kinds rappel_livrable and livrable_en_retard
(were rappel_tache and tache_en_retard), programme keys deliverables and reminders.deliverable

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = {'rappel_tache': 'rappel_livrable', 'tache_en_retard': 'livrable_en_retard'}
"""Old kind → new kind, as stored in notice.kind, at the head of notice.dedup_key (`kind:key:email`),
in a programme's digest list and in its template overrides' names (`<kind>.txt`, `<kind>.html`)."""
KEYS = {'accompaniment': ('tasks', 'deliverables'), 'reminders': ('task', 'deliverable')}
"""Section → (old key, new key) of a stored programme definition."""
FIGURES = {f'avancement.tasks_{end}': f'avancement.deliverables_{end}' for end in ('on_time', 'late', 'overdue',
                                                                                   'total')}
"""The progress figures a programme's own templates may quote (`jalon_atteint`, `fin_accompagnement`)."""

notice = sa.table('notice', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                  sa.column('dedup_key', sa.String))
programme = sa.table('programme', sa.column('id', sa.Integer), sa.column('definition', sa.JSON),
                     sa.column('templates', sa.JSON))


def upgrade() -> None:
    # A reminder queued before the upgrade must be found again by its key after it: the stored
    # kinds and the keys that start with them are rewritten (Message-IDs, already stored, stay).
    _rewrite(KINDS, KEYS, FIGURES)


def downgrade() -> None:
    _rewrite({new: old for old, new in KINDS.items()}, {section: (new, old) for section, (old, new) in KEYS.items()},
             {new: old for old, new in FIGURES.items()})


def _rewrite(kinds: dict[str, str], keys: dict[str, tuple[str, str]], figures: dict[str, str]) -> None:
    bind = op.get_bind()
    for old, new in kinds.items():
        rows = bind.execute(sa.select(notice.c.id, notice.c.kind, notice.c.dedup_key).where(
            sa.or_(notice.c.kind == old, notice.c.dedup_key.startswith(f'{old}:')))).all()
        for notice_id, kind, key in rows:
            bind.execute(notice.update().where(notice.c.id == notice_id).values(
                kind=new if kind == old else kind,
                dedup_key=new + key[len(old):] if key.startswith(f'{old}:') else key))
    for programme_id, definition, templates in bind.execute(
            sa.select(programme.c.id, programme.c.definition, programme.c.templates)).all():
        bind.execute(programme.update().where(programme.c.id == programme_id).values(
            definition=_definition(definition or {}, kinds, keys),
            templates=_templates(templates or {}, kinds, figures)))


def _definition(definition: dict[str, Any], kinds: dict[str, str], keys: dict[str, tuple[str, str]]) -> dict[str, Any]:
    definition = dict(definition)
    for section, (old, new) in keys.items():
        part = definition.get(section)
        if isinstance(part, dict) and old in part:
            definition[section] = {new if key == old else key: value for key, value in part.items()}
    reminders = definition.get('reminders')
    if isinstance(reminders, dict) and isinstance(reminders.get('digest'), list):
        definition['reminders'] = {**reminders, 'digest': [kinds.get(k, k) for k in reminders['digest']]}
    return definition


def _templates(templates: dict[str, str], kinds: dict[str, str], figures: dict[str, str]) -> dict[str, str]:
    renamed = {}
    for name, source in templates.items():
        stem, dot, extension = name.partition('.')
        for old, new in figures.items():
            source = source.replace(old, new)
        renamed[kinds.get(stem, stem) + dot + extension] = source
    return renamed
