"""Two tabs, or two colleagues, acting at once on the back office over real HTTP (uvicorn), on
SQLite and PostgreSQL: every act of the back office takes its turn on the programme
(`staff_state.staff_acting` holds the programme's row), so a rule read by one act sees what the
other committed: a pilot is withdrawn once, and a place left is offered once."""

from __future__ import annotations

import threading
from typing import Any

import httpx
from sqlmodel import select

from models.db import session_scope
from models.tables import Application, Pilot
from tests.guards import HANG_GUARD, join_or_fail
from tests.portal.conftest import ARRAS
from tests.portal.helpers import audits, form_ending
from tests.portal.staff_members import sign_in
from tests.portal.test_staff_jury import FLANDRE, LENS_LIEVIN
from tests.portal.test_staff_pilots import two_pilots  # noqa: F401 — the fixture

WITHDRAWAL = {"motif": "Charte non signée", "confirme": "oui"}


def _clients(base: str, url: str, clock: Any, count: int) -> list[httpx.Client]:
    """`count` tabs of one direction member signed in."""
    first = httpx.Client(base_url=base, timeout=HANG_GUARD)
    sign_in(first, url, clock, "direction")  # type: ignore[arg-type]
    return [first] + [httpx.Client(base_url=base, timeout=HANG_GUARD, cookies=first.cookies)
                      for _ in range(count - 1)]


def test_two_withdrawals_at_once_offer_the_place_once(two_pilots: str, serve: Any, clock: Any) -> None:  # noqa: F811
    """Two tabs withdraw Lens - Liévin and two others Arras, all at once: each pilot is withdrawn
    once (the other tab told it is done already), and the CC de Flandre Intérieure, next in line,
    becomes a pilot once."""
    base = serve(two_pilots)
    tabs = _clients(base, two_pilots, clock, 4)
    posts = []
    for tab, siren in zip(tabs, (LENS_LIEVIN, LENS_LIEVIN, ARRAS, ARRAS), strict=True):
        path = f"/equipe/pilotes/{siren}/retrait"
        posts.append((tab, path, {**form_ending(tab.get(path).text, path).hidden, **WITHDRAWAL}))
    statuses: list[int] = []
    gate = threading.Barrier(len(posts))

    def click(tab: httpx.Client, path: str, data: dict[str, str]) -> None:
        gate.wait()
        statuses.append(tab.post(path, data=data).status_code)

    threads = [threading.Thread(target=click, args=post) for post in posts]
    for thread in threads:
        thread.start()
    join_or_fail(threads, "quatre retraits simultanés")
    for tab in tabs:
        tab.close()
    assert sorted(statuses) == [303, 303, 409, 409]
    assert len(audits(two_pilots, "pilote.retire")) == 2
    with session_scope(two_pilots) as session:
        flandre = session.exec(select(Application).where(Application.lead_siren == FLANDRE)).one()
        assert len(session.exec(select(Pilot).where(Pilot.application_id == flandre.id)).all()) == 1


def test_accept_and_return_at_once_do_one_of_them(started: str, serve: Any, clock: Any) -> None:
    """One tab accepts the method handed in while another returns it for rework: one is done, the
    other refused (409, already accepted, or nothing handed in any more); never both."""
    from models import deliverables
    from models.pilots import find_pilot
    from tests.conftest import at, ctx_of
    from tests.portal.helpers import PDF

    with session_scope(started) as session:
        ctx = ctx_of(session)
        method = next(d for d in deliverables.deliverables_of(ctx, find_pilot(ctx, ARRAS)) if d.key == "methode")
        deliverables.hand_in_file(ctx, method, filename="methode.pdf", data=PDF, at=at("2015-07-20T10:00"),
                                  by="prestataire")
        path = f"/equipe/livrables/{method.id}"
    clock.now = at("2015-07-21T10:00")
    base = serve(started)
    tabs = _clients(base, started, clock, 2)
    accept = {**form_ending(tabs[0].get(path).text, "/accepter").hidden}
    back = {**form_ending(tabs[1].get(path).text, "/renvoyer").hidden, "commentaire": "Préciser le calendrier"}
    posts = [(tabs[0], f"{path}/accepter", accept), (tabs[1], f"{path}/renvoyer", back)]
    statuses: list[int] = []
    gate = threading.Barrier(2)

    def click(tab: httpx.Client, target: str, data: dict[str, str]) -> None:
        gate.wait()
        statuses.append(tab.post(target, data=data).status_code)

    threads = [threading.Thread(target=click, args=post) for post in posts]
    for thread in threads:
        thread.start()
    join_or_fail(threads, "accepter et renvoyer en même temps")
    for tab in tabs:
        tab.close()
    assert sorted(statuses) == [303, 409]
    assert len(audits(started, "livrable.accepte")) + len(audits(started, "livrable.a_reprendre")) == 1
