"""notices keep what their personal link is made of, not the link: its bearer (subject, person),
version and expiry; their bodies hold « [lien personnel] » where the link was (issue 24, item 5)

Each existing notice's link is read (its token's payload, without its signature: the portal's
secret is not needed, nor known here) into the new columns, and the link is replaced in its
bodies, sent notices included (the message that left keeps it; the database no longer does).
A link whose token cannot be read (never a working one) is removed from the bodies all the same.
The staff invitations and resets already sent forget their single-use key likewise (« [clé personnelle] »).
Downgrade: the `link` column comes back empty (rebuilding a link needs the portal's secret), the
bodies keep their placeholders: notices still waiting would leave without a working link.

Revision ID: 0022
Revises: 0019
Create Date: 2026-12-06 13:00:00
"""

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from itsdangerous import URLSafeSerializer
from markupsafe import escape

import models.db

revision: str = '0022'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINK_SALT = "transitions.lien-personnel"
LINK_PLACEHOLDER = "[lien personnel]"
TOKEN_PLACEHOLDER = "[jeton personnel]"
BATCH = 500
SINGLE_USE_KEY = re.compile(r"(/equipe/(?:invitation|reinitialisation)/)[A-Za-z0-9_-]+")


def _reference(programme_id: int | None, link: str) -> dict[str, Any] | None:
    """The link's subject, person, version and expiry, or None when its token cannot be read."""
    token = link.split("/l/", 1)[1].split("/", 1)[0] if "/l/" in link else link
    _, payload = URLSafeSerializer("", salt=LINK_SALT).loads_unsafe(token)
    if not isinstance(payload, dict) or payload.get("g") != programme_id:
        return None
    subject, person, version, expires = payload.get("s"), payload.get("p", ""), payload.get("v"), payload.get("e")
    if not (isinstance(subject, str) and isinstance(person, str) and isinstance(version, int)
            and isinstance(expires, int) and not isinstance(expires, bool)):
        return None
    try:
        when = datetime.fromtimestamp(expires, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return {"link_subject": subject, "link_person": person, "link_version": version, "link_expires": when}


def _strip(text: str, link: str, html: bool = False) -> str:
    token = link.split("/l/", 1)[1].split("/", 1)[0] if "/l/" in link else link
    shown = str(escape(link)) if html else link
    return text.replace(shown, LINK_PLACEHOLDER).replace(token, TOKEN_PLACEHOLDER)


def upgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_subject', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('link_person', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('link_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('link_expires', models.db.UTCDateTime(timezone=True), nullable=True))
    notice = sa.table('notice', sa.column('id', sa.Integer()), sa.column('programme_id', sa.Integer()),
                      sa.column('kind', sa.Text()), sa.column('status', sa.Text()),
                      sa.column('link', sa.Text()), sa.column('body_text', sa.Text()),
                      sa.column('body_html', sa.Text()), sa.column('core_text', sa.Text()),
                      sa.column('link_subject', sa.Text()), sa.column('link_person', sa.Text()),
                      sa.column('link_version', sa.Integer()),
                      sa.column('link_expires', models.db.UTCDateTime(timezone=True)))
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(notice.c.id, notice.c.programme_id, notice.c.link, notice.c.body_text, notice.c.body_html,
                      notice.c.core_text)
            .where(notice.c.link.is_not(None), notice.c.id > last).order_by(notice.c.id).limit(BATCH)).all()
        if not rows:
            break
        for row in rows:
            values = {"body_text": _strip(row.body_text, row.link), "body_html": _strip(row.body_html, row.link, True),
                      "core_text": _strip(row.core_text, row.link)}
            values.update(_reference(row.programme_id, row.link) or {})
            connection.execute(sa.update(notice).where(notice.c.id == row.id).values(**values))
        last = rows[-1].id
    sent_keys = connection.execute(
        sa.select(notice.c.id, notice.c.body_text, notice.c.body_html, notice.c.core_text)
        .where(notice.c.kind.in_(["invitation_equipe", "reinitialisation_equipe"]), notice.c.status == "envoye")).all()
    for row in sent_keys:
        connection.execute(sa.update(notice).where(notice.c.id == row.id).values(
            **{name: SINGLE_USE_KEY.sub(r"\1[clé personnelle]", getattr(row, name))
               for name in ("body_text", "body_html", "core_text")}))
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_column('link')


def downgrade() -> None:
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link', sa.Text(), nullable=True))
        batch_op.drop_column('link_expires')
        batch_op.drop_column('link_version')
        batch_op.drop_column('link_person')
        batch_op.drop_column('link_subject')
