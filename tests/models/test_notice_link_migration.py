"""Migration 0022: notices queued before it, whose bodies and `link` column held the live link, keep
what the link is made of (bearer, version, expiry) and « [lien personnel] » in their bodies, and
leave byte for byte as they would have."""

from __future__ import annotations

import re

import pytest
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import col, select

from config.settings import reset_settings
from models.db import MIGRATIONS_DIR, get_engine, session_scope
from models.link_tokens import LINK_PLACEHOLDER
from models.tables import Notice
from notifications.message import personal_link, single_message
from tests.conftest import select_three_pilots
from tests.portal.conftest import SECRET

BASE = "https://portail.cerdd.example.org"


def _stored(url: str) -> dict[int, tuple[object, ...]]:
    with session_scope(url) as session:
        return {n.id or 0: (n.body_text, n.body_html, n.core_text, n.link_subject, n.link_person, n.link_version,
                            n.link_expires) for n in session.exec(select(Notice).order_by(col(Notice.id))).all()}


def test_notices_queued_before_0022_lose_their_link_in_the_database_not_in_the_mail(
        loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_SECRET", SECRET)
    monkeypatch.setenv("PORTAL_BASE_URL", BASE)
    reset_settings()
    select_three_pilots(loaded)
    after = _stored(loaded)
    with session_scope(loaded) as session:
        notices = list(session.exec(select(Notice)).all())
        sent = {n.id: single_message(n) for n in notices}
        old = {n.id: (personal_link(n), single_message(n).text, single_message(n).html) for n in notices}
        cores = {n.id: n.core_text for n in notices}
    assert sum(1 for link, _, _ in old.values() if link) > 10
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = get_engine(loaded)
    command.downgrade(config, str(ScriptDirectory.from_config(config).get_revision("0022").down_revision))
    with get_engine(loaded).begin() as connection:  # the rows as written before 0022: the link everywhere
        for number, (link, body, html) in old.items():
            connection.execute(text("UPDATE notice SET link = :link, body_text = :body, body_html = :html, "
                                    "core_text = :core WHERE id = :id"),
                               {"link": link, "body": body, "html": html, "id": number,
                                "core": cores[number].replace(LINK_PLACEHOLDER, link or LINK_PLACEHOLDER)})
    command.upgrade(config, "head")
    assert _stored(loaded) == after  # as if queued after the upgrade
    with session_scope(loaded) as session:
        again = {n.id: single_message(n) for n in session.exec(select(Notice)).all()}
    assert {k: (m.text, m.html) for k, m in again.items()} == {k: (m.text, m.html) for k, m in sent.items()}
    reset_settings()


def test_an_invitation_sent_before_0022_forgets_its_key(loaded: str) -> None:
    from models import staff
    from tests.conftest import at, ctx_of

    with session_scope(loaded) as session:
        staff.add_member(ctx_of(session), "anne.martin@cerdd.example.org", "Anne Martin", "lecture",
                         at=at("2015-06-10T10:00"), by="test", base_url=BASE, secret=SECRET)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = get_engine(loaded)
    command.downgrade(config, str(ScriptDirectory.from_config(config).get_revision("0022").down_revision))
    with get_engine(loaded).begin() as connection:  # sent before 0022, its key in its bodies
        connection.execute(text("UPDATE notice SET status = 'envoye', body_text = replace(body_text, :mark, :key), "
                                "body_html = replace(body_html, :mark, :key) WHERE kind = 'invitation_equipe'"),
                           {"mark": "[clé personnelle]", "key": "Cle-en-clair_d-avant-la-derivation-0123456789"})
    command.upgrade(config, "head")
    with session_scope(loaded) as session:
        invitation = session.exec(select(Notice).where(Notice.kind == "invitation_equipe")).one()
    for body in (invitation.body_text, invitation.body_html):
        assert "/equipe/invitation/[clé personnelle]" in body
        assert not re.search(r"/equipe/invitation/[A-Za-z0-9_-]{20,}", body)
