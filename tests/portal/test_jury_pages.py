"""Pages that cost what their person sees: the juror's list of applications paged by 25, each
application's sheet on its own page, on a generated programme of 30 applications; a page's database
connection given back before the page renders; a request that finds no connection in time answered
503 in French with Retry-After."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jinja2
import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from bench.national import KICKOFF, build
from models.db import get_engine, session_scope
from models.tables import Application
from tests.portal.conftest import ARRAS, SECRET, Clock, juror, link, territory
from tests.portal.helpers import assert_french_refusal
from transitions.portal.app import create_app

PAGE_LIMIT = 300 * 1024
"""No page over 300 KB (issue 25)."""


@pytest.fixture
def thirty(db_url: str) -> str:
    """A generated programme: 30 applications examined by the jury, 24 selected, charters signed."""
    build(db_url, 24, until=KICKOFF - timedelta(days=1))
    return db_url


def _receipts(url: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.exec(select(Application.receipt_number).order_by(col(Application.id))).all())


def test_the_jurors_list_is_paged_by_25_and_each_application_opens_on_its_own_page(thirty: str,  # noqa: ANN001
                                                                                  client_for) -> None:
    client = client_for(thirty)
    _, path = link(thirty, juror(), when="2015-06-05T09:00")
    first = client.get(path)
    receipts = _receipts(thirty)
    assert first.status_code == 200 and len(first.content) < PAGE_LIMIT
    shown = re.findall(r'href="[^"]*/jury/candidature/([^"]+)"', first.text)
    assert shown == receipts[:25] and "Page 1 sur 2 : lignes 1 à 25 sur 30." in first.text
    assert f'href="{path}?page=2" rel="next">Page suivante</a>' in first.text and "Page précédente" not in first.text
    assert first.text.count("<td>retenue</td>") == 24 and first.text.count("<td>non retenue</td>") == 1
    second = client.get(f"{path}?page=2").text
    assert re.findall(r'href="[^"]*/jury/candidature/([^"]+)"', second) == receipts[25:]
    assert "Page 2 sur 2 : lignes 26 à 30 sur 30." in second and "Page suivante" not in second
    assert client.get(f"{path}?page=999").text == second  # beyond the last: the last
    for odd in ("abc", "-1", "0", "1e9", "٣"):  # anything but a page number: refused, never a silent first page
        assert_french_refusal(client.get(f"{path}?page={odd}"), 422, "Numéro de page")
    sheet = client.get(f"{path}/candidature/{receipts[26]}")
    assert sheet.status_code == 200 and len(sheet.content) < PAGE_LIMIT
    assert f"({receipts[26]})</h1>" in sheet.text and "Décision du jury : <strong>" in sheet.text
    assert sum(f"({r})" in sheet.text for r in receipts) == 1  # its own application only
    assert_french_refusal(client.get(f"{path}/candidature/CERDD-2015-9999"), 404, "Aucune candidature")


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The connections the database pool had handed out at each template render."""
    seen: list[int] = []
    original = jinja2.Template.render

    def render(template: jinja2.Template, *args: Any, **kwargs: Any) -> str:
        seen.append(_pool.checkedout())
        return original(template, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", render)
    yield seen


_pool: Any = None


def test_a_page_gives_its_connection_back_before_it_renders(scoring: str, client_for,  # noqa: ANN001
                                                            renders: list[int], clock: Clock) -> None:
    global _pool
    client = client_for(scoring)
    _pool = get_engine(scoring).pool
    _, path = link(scoring, juror(), when="2015-05-20T10:00")
    with session_scope(scoring) as session:
        receipt = session.exec(select(Application.receipt_number).where(Application.lead_siren == ARRAS)).one()
    for page in (path, f"{path}/candidature/{receipt}"):
        renders.clear()
        assert client.get(page).status_code == 200
        assert renders == [0], page  # rendered with no connection held


def test_a_request_without_a_free_connection_in_time_is_answered_503_in_french(
        selected: str, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(selected, SECRET, clock=clock, concurrency=1, pool_timeout=0.2)
    engine = get_engine(selected)
    _, path = link(selected, territory(), when="2015-06-05T09:00")
    held = [engine.connect() for _ in range(engine.pool.size())]  # type: ignore[attr-defined]  # every connection busy
    with TestClient(app, follow_redirects=False) as client, caplog.at_level(logging.WARNING):
        try:
            busy = client.get(path)
        finally:
            for connection in held:
                connection.close()
        assert busy.status_code == 503 and busy.headers["retry-after"] == "5"
        assert "Service indisponible" in busy.text and "surchargé" in busy.text and "Traceback" not in busy.text
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
        assert client.get(path).status_code == 200  # the connections back: the page opens
