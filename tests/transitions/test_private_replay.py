"""After the 2015 replay (issue 24, item 5): every file and folder it left is for its owner only,
the outbox's rows hold no personal link while the messages that left carry working ones, a digest
still lists each notice's link, and what shows a stored notice to the Cerdd shows « [lien personnel] »."""

from __future__ import annotations

import os
import re
import stat
from email import message_from_bytes, policy
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import String, Text
from sqlmodel import select
from typer.testing import CliRunner

from config.settings import reset_settings
from models.db import session_scope
from models.link_tokens import LINK_PLACEHOLDER, unsigned_payload
from models.links import LinkSettings
from models.tables import Notice
from notifications.message import personal_link
from transitions.demo import DEMO_PORTAL
from transitions.portal.app import create_app

LINK = re.compile(re.escape(DEMO_PORTAL) + r"(/l/[A-Za-z0-9_.\-]+/[a-z]+(?:/[0-9*:]+)*)")
TOKENISH = re.compile(r"[A-Za-z0-9_\-.]{24,}")
"""Anything long enough to be a signed token (`itsdangerous`: payload.signature, base64url)."""


def _secret(out: Path) -> str:
    return dict(line.split("=", 1) for line in (out / ".env").read_text(encoding="utf-8").splitlines())["PORTAL_SECRET"]


def _messages(out: Path) -> list[tuple[str, str, str]]:
    """Each message of the outbox: its notices' numbers, its plain text and its HTML."""
    found = []
    for path in sorted((out / "outbox").rglob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        text, html = message.get_body(preferencelist=("plain",)), message.get_body(preferencelist=("html",))
        found.append((str(message["X-Transitions-Notices"] or ""), text.get_content() if text else "",
                      html.get_content() if html else ""))
    return found


def test_every_file_and_folder_the_replay_left_is_for_its_owner_only(replayed: tuple[Path, str]) -> None:
    out, _ = replayed
    entries = [out, *out.rglob("*")]
    shared = {str(p.relative_to(out)): oct(stat.S_IMODE(os.lstat(p).st_mode)) for p in entries
              if not p.is_symlink() and os.lstat(p).st_mode & 0o077}
    assert shared == {}
    names = {p.name for p in entries}
    assert {"transitions.db", "outbox", "rapport.html", "bilan.md", ".env"} <= names  # what was walked
    assert len(list((out / "outbox").glob("*.eml"))) > 400


def test_the_outbox_rows_hold_no_link_and_the_messages_carry_working_ones(replayed: tuple[Path, str]) -> None:
    out, url = replayed
    texts = [c.name for c in Notice.__table__.columns if isinstance(c.type, String | Text)]  # type: ignore[attr-defined]
    signing = LinkSettings(_secret(out), DEMO_PORTAL, 0)
    with session_scope(url) as session:
        notices = list(session.exec(select(Notice)).all())
        carried = {n.id: personal_link(n, signing) for n in notices}
    for notice in notices:
        for name in texts:
            value = getattr(notice, name) or ""
            assert "/l/" not in value, (notice.id, name)
            assert not [t for t in TOKENISH.findall(value) if (unsigned_payload(t) or {}).get("s")], (notice.id, name)
    with_link = [n for n in notices if carried[n.id]]
    assert len(with_link) > 300 and all(LINK_PLACEHOLDER in n.body_text for n in with_link)
    sent = _messages(out)
    by_notice = {int(number): (text, html) for numbers, text, html in sent for number in numbers.split()}
    for notice in with_link:
        text, html = by_notice[notice.id or 0]
        link = carried[notice.id] or "?"
        assert link in text and f'href="{link}"' in html, notice.id  # the very link, byte for byte
        assert LINK_PLACEHOLDER not in text
    client = TestClient(create_app(url, signing.secret))  # the real clock: the links are valid from the replay
    opened = {}
    for notice in with_link:
        if notice.kind == "charte_a_signer" and "/territoire/" in (carried[notice.id] or ""):
            found = LINK.search(carried[notice.id] or "")
            assert found
            opened[notice.id] = client.get(found.group(1)).status_code
    assert opened and 200 in opened.values() and set(opened.values()) <= {200, 410}


def test_a_digest_still_lists_each_notice_s_link(replayed: tuple[Path, str]) -> None:
    out, url = replayed
    signing = LinkSettings(_secret(out), DEMO_PORTAL, 0)
    with session_scope(url) as session:
        links = {n.id: personal_link(n, signing) for n in session.exec(select(Notice)).all()}
    digests = [(numbers.split(), text) for numbers, text, _ in _messages(out)
               if len(numbers.split()) > 1 and any(links[int(n)] for n in numbers.split())]
    assert digests
    for numbers, text in digests:
        assert all(links[int(n)] in text for n in numbers if links[int(n)]), numbers
        assert LINK_PLACEHOLDER not in text


def test_outbox_show_gives_the_cerdd_the_notice_without_its_link(replayed: tuple[Path, str], tmp_path: Path) -> None:
    out, url = replayed
    from transitions.cli.common import app

    with session_scope(url) as session:
        notice = session.exec(select(Notice).where(Notice.kind == "charte_a_signer")).first()
        assert notice is not None and notice.link_subject
    reset_settings()  # an earlier test's settings (another database) are not this command's
    shown = CliRunner().invoke(app, ["outbox", "show", str(notice.id), "--html", str(tmp_path / "avis.html")],
                               env={"DATABASE_URL": url, "DATA_DIR": str(tmp_path), "COLUMNS": "250"})
    reset_settings()  # the command's settings are not the next test's
    assert shown.exit_code == 0, shown.output
    assert LINK_PLACEHOLDER in shown.output and "/l/" not in shown.output
    assert "/l/" not in (tmp_path / "avis.html").read_text(encoding="utf-8")
