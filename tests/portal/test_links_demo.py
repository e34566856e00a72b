"""The demo's notices carry links that open the portal started from its folder, and `--until` stops
the replay where people still have things to do there."""

from __future__ import annotations

import io
import re
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from rich.console import Console
from sqlmodel import select

from config.settings import reset_settings
from flows.plain import run_tick_plain
from models.db import dispose_engines, session_scope
from models.tables import Programme
from tests.conftest import at
from transitions.demo import DEMO_PORTAL, run_demo
from transitions.portal.app import create_app

LINK = re.compile(re.escape(DEMO_PORTAL) + r"(/l/[A-Za-z0-9_.\-]+/[a-z]+(?:/[0-9*]+)?)")


def test_a_demo_stopped_before_the_charters_are_signed_mails_links_that_open_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("DATABASE_URL", "OUTBOX_DIR", "NOTICE_CHANNEL", "PREFECT_HOME", "DATA_DIR"):
        monkeypatch.setenv(key, "placeholder")  # restored afterwards, whatever the demo sets
    for key in ("PORTAL_SECRET", "PORTAL_BASE_URL"):
        monkeypatch.delenv(key, raising=False)
    out = tmp_path / "demo"
    console = io.StringIO()
    try:
        run_demo(out, Console(file=console, width=200), tick=run_tick_plain, until=at("2015-06-20T00:00"))
    finally:
        dispose_engines()
        reset_settings()
    url = f"sqlite:///{out / 'transitions.db'}"
    assert "Rejeu arrêté au samedi 20 juin 2015 à 0h00" in " ".join(console.getvalue().split())
    with session_scope(url) as session:  # the programme as it stands at the instant asked for
        programme = session.exec(select(Programme)).one()
        assert programme.last_tick_at == at("2015-06-20T00:00")
    settings = dict(line.split("=", 1) for line in (out / ".env").read_text(encoding="utf-8").splitlines())
    to_sign = []
    for path in sorted((out / "outbox").rglob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        if body is not None and "charte" in str(message["Subject"]).lower() and "à signer" in str(message["Subject"]):
            to_sign.append(body.get_content())
    assert to_sign
    client = TestClient(create_app(url, settings["PORTAL_SECRET"]))  # the real clock: links valid from now
    for text in to_sign:
        found = LINK.search(text)
        assert found, text
        assert "il fonctionne jusqu'au" in text
        page = client.get(found.group(1))
        assert page.status_code == 200, page.text
        assert "charte" in page.text.lower()
