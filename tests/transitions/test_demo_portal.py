"""The replay leaves one personal link per party and the way to open the portal on its database."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from config.settings import reset_settings
from models.db import dispose_engines
from transitions.cli import app
from transitions.portal.app import create_app


def test_the_demo_leaves_working_personal_links(replayed: tuple[Path, str]) -> None:
    out, url = replayed
    lines = (out / "liens-portail.txt").read_text(encoding="utf-8").splitlines()
    assert [line.split(" : ")[0].strip().split(" (")[0] for line in lines] == ["territoire", "Cerdd", "prestataire",
                                                                                 "juré"]
    settings = dict(line.split("=", 1) for line in (out / ".env").read_text(encoding="utf-8").splitlines())
    assert settings["DATABASE_URL"] == url and len(settings["PORTAL_SECRET"]) >= 32
    assert (out / ".env").stat().st_mode & 0o077 == 0  # the demo's secret is readable by its owner only
    assert (out / "liens-portail.txt").stat().st_mode & 0o077 == 0  # and so are its personal links
    client = TestClient(create_app(url, settings["PORTAL_SECRET"]))  # the real clock: links issued now
    titles = []
    for line in lines:
        link = line.split(" : ", 1)[1].strip()
        assert link.startswith("http://127.0.0.1:8000/l/")
        page = client.get(link.removeprefix("http://127.0.0.1:8000"))
        assert page.status_code == 200, page.text
        titles.append(page.text.split("<h1>")[1].split("</h1>")[0])
        if "/jury" in link:  # the CC de Flandre Intérieure withdrew: not among the pilots any more
            retained = page.text.split("Territoires retenus comme pilotes : ")[1].split("</p>")[0]
            assert "CU d&#39;Arras" in retained and "Flandre" not in retained and "Maubeuge" in retained
    assert titles[0].endswith("votre année d'accompagnement") and titles[3].startswith("Jury")


def test_a_link_for_a_withdrawn_territory_says_it_has_withdrawn(replayed: tuple[Path, str], tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The Cerdd may still resend a withdrawn territory its link (its page tells the story), but is warned."""
    out, _ = replayed
    copy = tmp_path / "copie.db"  # a link revokes the previous one: the shared replay stays untouched
    shutil.copy(out / "transitions.db", copy)
    settings = dict(line.split("=", 1) for line in (out / ".env").read_text(encoding="utf-8").splitlines())
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{copy}")
    monkeypatch.setenv("PORTAL_SECRET", settings["PORTAL_SECRET"])
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    reset_settings()
    try:
        withdrawn = CliRunner().invoke(app, ["link", "--pilot", "200040947", "--party", "territoire"])
        active = CliRunner().invoke(app, ["link", "--pilot", "200033579", "--party", "territoire"])
    finally:
        dispose_engines()
        reset_settings()
    assert withdrawn.exit_code == 0, withdrawn.output
    assert ("CC de Flandre Intérieure a été retirée du programme par le Cerdd le lundi 6 juillet 2015"
            in " ".join(withdrawn.output.split()))
    assert active.exit_code == 0 and "retiré" not in active.output
