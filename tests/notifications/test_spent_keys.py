"""A staff member's single-use key (invitation, password reset) is random: it cannot be signed again
at sending time like a personal link, so its notice keeps it until the message has left, and then
no more (issue 24, item 5): the outbox's file holds it, the database « [clé personnelle] »."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

from sqlmodel import select

from flows.plain import deliver_now
from models import staff
from models.db import session_scope
from models.link_tokens import KEY_PLACEHOLDER
from models.tables import Notice
from tests.conftest import at, ctx_of

BASE = "https://transitions.example.org"
KEY = re.compile(re.escape(BASE) + r"/equipe/invitation/([A-Za-z0-9_-]+)")


def _invitation(url: str) -> Notice:
    with session_scope(url) as session:
        notice = session.exec(select(Notice).where(Notice.kind == "invitation_equipe")).one()
        session.expunge(notice)
        return notice


def test_a_sent_invitation_keeps_its_key_in_the_mail_only(loaded: str, tmp_path: Path) -> None:
    now = at("2015-06-10T10:00")
    with session_scope(loaded) as session:
        staff.add_member(ctx_of(session), "anne.martin@cerdd.example.org", "Anne Martin", "charge_de_mission",
                         at=now, by="cli:admin", base_url=BASE)
    waiting = KEY.search(_invitation(loaded).body_text)
    assert waiting  # until it leaves, the notice holds what it will send
    assert deliver_now(now).sent == 1
    mailed = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in (tmp_path / "outbox").rglob("*.eml")]
    texts = [m.get_body(preferencelist=("plain",)).get_content() for m in mailed]  # type: ignore[union-attr]
    found = [KEY.search(text) for text in texts]
    assert [m.group(1) for m in found if m] == [waiting.group(1)]
    stored = _invitation(loaded)
    assert stored.status == "envoye"
    for body in (stored.body_text, stored.body_html, stored.core_text):
        assert waiting.group(1) not in body
    assert f"{BASE}/equipe/invitation/{KEY_PLACEHOLDER}" in stored.body_text
    with session_scope(loaded) as session:  # the key mailed still opens the invitation
        member, _ = staff.link_member(session, waiting.group(1), staff.INVITATION, now)
        assert member.email == "anne.martin@cerdd.example.org"
