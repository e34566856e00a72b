"""The replay leaves one personal link per party and the way to open the portal on its database."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

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
    assert titles[0].endswith("votre année d'accompagnement") and titles[3].startswith("Jury")
