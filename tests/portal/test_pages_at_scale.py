"""Every page at a generated programme's scale (`bench.national.build`, 30 pilots): each bearer's
page kind and every list of the back office answers under 300 KB (`bench.pages`, which measures the
same pages at 1,000 pilots), and the back office's lists of pilots, applications, people, sessions
and deliverables are paged by 25, by rank, with a search by name or SIREN."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlmodel import col, select

from bench.national import build
from bench.pages import PAGE_LIMIT_KB, client, page_paths, sign_in_staff, staff_paths
from models.db import session_scope
from models.tables import Application, Pilot
from tests.portal.conftest import SECRET

PILOTS = 30
pytestmark = pytest.mark.slow  # a year ticked for 30 pilots (about 20 s a database)


@pytest.fixture
def national(db_url: str) -> str:
    """30 pilots (37 applications) ticked weekly through their year to January 2016."""
    build(db_url, PILOTS)
    return db_url


@pytest.fixture
def staff(national: str) -> Any:
    with client(national, SECRET) as browser:
        sign_in_staff(browser, national, SECRET)
        yield browser


def _by_rank(url: str) -> list[tuple[str, str]]:
    """(SIREN, name) of each pilot, by rank."""
    with session_scope(url) as session:
        rows = session.exec(select(Application.lead_siren, Pilot.name)
                            .join(Pilot, col(Pilot.application_id) == Application.id).order_by(col(Pilot.rank))).all()
    return [(siren, name) for siren, name in rows]


def _text(answer: Any) -> str:
    assert answer.status_code == 200, answer.text[:500]
    return html.unescape(answer.text)


def test_every_page_kind_weighs_under_300_kb(national: str, staff: Any) -> None:
    paths = {**page_paths(national, SECRET), **staff_paths(national)}
    assert {"calendrier (prestataire, tous)", "équipe : personnes", "équipe : jury", "équipe : livrables"} <= set(paths)
    weights = {}
    for name, path in paths.items():
        answer = staff.get(path)
        assert answer.status_code == 200, (name, answer.status_code)
        weights[name] = len(answer.content) / 1024
    assert max(weights.values()) < PAGE_LIMIT_KB, weights


LISTS = ("/equipe/pilotes", "/equipe/personnes", "/equipe/sessions", "/equipe/livrables")


def _paged_by_rank(staff: Any, path: str, pilots: list[tuple[str, str]]) -> None:
    first, second = _text(staff.get(path)), _text(staff.get(path + "?page=2"))
    assert "Page 1 sur 2" in first and "Page 2 sur 2" in second, path
    assert f'href="{path}?page=2"' in staff.get(path).text
    for siren, _ in pilots[:25]:
        assert siren in first and siren not in second, (path, siren)
    for siren, _ in pilots[25:]:
        assert siren in second and siren not in first, (path, siren)
    beyond = _text(staff.get(path + "?page=999"))  # beyond the last: the last
    assert "Page 2 sur 2" in beyond and all(siren in beyond for siren, _ in pilots[25:])


def _searched(staff: Any, path: str, pilots: list[tuple[str, str]]) -> None:
    siren, name = pilots[27]
    found = _text(staff.get(path, params={"recherche": siren}))
    assert "1 résultat(s)" in found and name in found and pilots[0][0] not in found, path
    assert name in _text(staff.get(path, params={"recherche": siren[:-1]}))  # its first digits
    named = _text(staff.get(path, params={"recherche": "territoire 0000"}))  # case aside: 00000 to 00009
    assert "10 résultat(s)" in named and "Page 1 sur" not in named, path
    assert all(f"CC du Territoire {n:05d}" in named for n in range(10))
    none = _text(staff.get(path, params={"recherche": "100%_introuvable"}))
    assert "0 résultat(s)" in none and pilots[0][0] not in none, path


def test_the_long_lists_are_paged_by_25_and_searched_by_name_or_siren(national: str, staff: Any) -> None:
    pilots = _by_rank(national)
    assert len(pilots) == PILOTS
    for path in LISTS:
        _paged_by_rank(staff, path, pilots)
        _searched(staff, path, pilots)
    with session_scope(national) as session:
        receipts = list(session.exec(select(Application.receipt_number).order_by(col(Application.id))).all())
    assert len(receipts) > 25
    first, second = _text(staff.get("/equipe/candidatures")), _text(staff.get("/equipe/candidatures?page=2"))
    assert "Page 1 sur 2" in first and f"{len(receipts)} candidature(s)" in first
    assert all(r in first for r in receipts[:25]) and not any(r in first for r in receipts[25:])
    assert all(r in second for r in receipts[25:])
    _searched(staff, "/equipe/candidatures", pilots)
    paged_search = staff.get("/equipe/candidatures", params={"recherche": "Territoire", "page": "2"}).text
    assert re.search(r'href="/equipe/candidatures\?recherche=Territoire&amp;page=1"', paged_search)
