"""What a bearer's page costs the database (its SQL statements, counted), and the territory's page,
read through the pilot's year at once, the same page as the one its separate reads made."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from models import training
from models.db import session_scope
from models.pilots import find_pilot
from models.read.pilot import charter_view
from models.read.report_data import pilot_views
from models.read.steps import next_steps
from models.read.territory import SessionLine, TerritoryScreen
from models.tables import Application, Attendance, CharterParty, Pilot
from models.training import answer_invitation, answers_of, cancel, record_attendance, reschedule
from models.withdrawal import withdraw
from tests.conftest import at, ctx_of
from tests.portal.conftest import ARRAS, LENS, Clock, consultancy, juror, link, territory
from tests.statements import statements

BUDGETS = {
    "territoire": 4,
    "session (.ics)": 5,
    "calendrier (territoire)": 4,
    "cerdd": 19,
    "prestataire (un pilote)": 24,
    "prestataire (liste)": 50,
    "jury (liste)": 9,
    "jury (candidature)": 10,
}
"""The SQL statements each page the load bench drives may send (`bench/load.py`), for the three
pilots of this programme, asked a second time: the territory's page sent 23 before its year was read
at once, 8 before it was kept between pages (`models.read.pilot_year.YearCache`: the programme, the
link, the pilot and its stamp now)."""


def _paths(url: str) -> dict[str, str]:
    _, mine = link(url, territory())
    _, cerdd = link(url, territory(party="cerdd"))
    _, firm = link(url, consultancy())
    _, jury = link(url, juror())
    with session_scope(url) as session:
        receipt = session.exec(select(Application.receipt_number).where(Application.lead_siren == ARRAS)).one()
    return {"territoire": mine, "session (.ics)": f"{mine}/session/formation-1.ics",
            "calendrier (territoire)": mine.removesuffix(f"/territoire/{ARRAS}") + "/calendrier.ics",
            "cerdd": cerdd, "prestataire (un pilote)": f"{firm}/{ARRAS}", "prestataire (liste)": firm,
            "jury (liste)": jury, "jury (candidature)": f"{jury}/candidature/{receipt}"}


def test_each_page_the_load_bench_drives_stays_within_its_budget_of_queries(started: str, client_for) -> None:  # noqa: ANN001
    client = client_for(started)
    spent = {}
    for name, path in _paths(started).items():
        assert client.get(path).status_code == 200, name  # warm: the pool's connection opened, the programme validated
        with statements() as sent:
            answer = client.get(path)
        assert answer.status_code == 200, (name, answer.text[:300])
        spent[name] = len(sent)
    assert {name: n for name, n in spent.items() if n > BUDGETS[name]} == {}, spent


def test_the_territory_page_after_a_change_reads_its_year_again_within_its_budget(started: str,
                                                                                   client_for) -> None:  # noqa: ANN001
    client = client_for(started)
    _, path = link(started, territory())
    assert client.get(path).status_code == 200
    with session_scope(started) as session:  # any change to the year: its stamp moves, the kept year is not used
        session.execute(text("UPDATE pilotphase SET title = title || ' (revue)' WHERE position = 1"))
    with statements() as sent:
        answer = client.get(path)
    assert answer.status_code == 200 and "(revue)" in answer.text
    assert len(sent) <= MISSED_BUDGET, sent


MISSED_BUDGET = 9
"""The territory's page when its kept year is out of date: the programme, the link, the pilot, its
stamp, the year's five reads (one more than before years were kept: the stamp)."""


def _old_screen(ctx: Any, pilot: Pilot, siren: str, now: datetime) -> TerritoryScreen:
    """The territory's screen as it was composed before its year was read at once: each block by
    its own reads (the view by `pilot_views`, the steps by `next_steps`, the charter, the sessions,
    their answers and attendance one query each)."""
    answers = answers_of(ctx, pilot)
    sessions = training.sessions_of(ctx, pilot)
    marks: dict[int, list[Attendance]] = {}
    for row in ctx.session.exec(select(Attendance).where(col(Attendance.session_id).in_([s.id for s in sessions]),
                                                         col(Attendance.recorded_at) <= now)
                                .order_by(col(Attendance.person))):
        marks.setdefault(row.session_id, []).append(row)
    lines = tuple(SessionLine(s, answers.get(s.id or 0), s.ends_at <= now, tuple(marks.get(s.id or 0, [])),
                              bool(training.may_answer(ctx, pilot, s, now)), f"reponse:{s.id}") for s in sessions)
    return TerritoryScreen(pilot, pilot_views(ctx, now, siren)[0],
                           tuple(next_steps(ctx, pilot, now, CharterParty.TERRITORY)),
                           charter_view(ctx, pilot, CharterParty.TERRITORY, now), lines)


def _year_lived(url: str) -> None:
    """Arras answers two invitations (yes, no), a session is cancelled and another moved, the first
    one's attendance recorded (names that sort differently by code point and by collation); Lens,
    whose charter waits, is withdrawn."""
    with session_scope(url) as session:
        ctx = ctx_of(session)
        arras = find_pilot(ctx, ARRAS)
        first, *others = training.sessions_of(ctx, arras)
        answer_invitation(ctx, arras, first, attending=True, people="Claire Dufour\nJean Martin",
                          at=at("2015-07-02T11:00"))
        answer_invitation(ctx, arras, others[0], attending=False, people="", at=at("2015-07-02T11:05"))
        cancel(ctx, others[1], reason="Salle indisponible", at=at("2015-07-03T10:00"))
        reschedule(ctx, others[2], to=others[2].starts_at + timedelta(days=14), reason="Élus indisponibles",
                   at=at("2015-07-03T10:30"))
        for person, present in (("Émile Zola", True), ("zoé Durand", False), ("Zacharie Ba", True)):
            record_attendance(ctx, first, person=person, organisation="CU d'Arras", present=present,
                              at=first.ends_at + timedelta(hours=1))
        withdraw(ctx, find_pilot(ctx, LENS), reason="Charte non signée", at=at("2015-07-06T10:00"))


def _masked(page: str) -> str:
    """A page without its forms' one-time tokens (each drawn at random)."""
    return re.sub(r'name="jeton" value="[^"]*"', 'name="jeton"', page)


@pytest.mark.parametrize("when", ["2015-06-25T10:00", "2015-07-02T12:00", "2015-07-04T09:00", "2015-07-10T09:00",
                                  "2015-09-01T10:00", "2016-01-15T10:00"])
def test_the_territory_page_from_its_year_read_at_once_is_the_page_its_separate_reads_made(
        started: str, client_for, clock: Clock, monkeypatch: pytest.MonkeyPatch, when: str) -> None:  # noqa: ANN001
    _year_lived(started)
    clock.now = at(when)
    client = client_for(started)
    with session_scope(started) as session:
        sirens = list(session.exec(select(Application.lead_siren).join(
            Pilot, col(Pilot.application_id) == Application.id)).all())
    assert len(sirens) >= 3
    paths = [link(started, territory(siren), when="2015-06-05T09:00", days=400)[1] for siren in sirens]
    new = [client.get(path) for path in paths]
    monkeypatch.setattr("transitions.portal.routers.territory.territory_screen", _old_screen)
    old = [client.get(path) for path in paths]
    for path, before, after in zip(paths, old, new, strict=True):
        assert (after.status_code, _masked(after.text)) == (before.status_code, _masked(before.text)), path
    shown = "".join(page.text for page in new)
    if when >= "2015-09":  # what the year holds by then is on the pages compared
        assert [part for part in ("Présences relevées : 2 présents (",
                                  "annulée", "retiré", "Claire Dufour, Jean Martin") if part not in shown] == []


def test_the_portal_keeps_as_many_years_as_its_setting_says(started: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import reset_settings
    from models.read.pilot_year import YEARS
    from transitions.portal.app import create_app

    size = YEARS.size
    monkeypatch.setenv("PORTAL_KEPT_YEARS", "7")
    reset_settings()
    try:
        create_app(started, "s" * 40)
        assert YEARS.size == 7
    finally:
        YEARS.size = size
        reset_settings()
