"""Each party's « À faire » lists its own acts: the territory its signature, answers and sessions;
the consultancy its signature and deliverables; the Cerdd its signature, reviews and decisions."""

from __future__ import annotations

from flows.plain import run_one_stage
from models import charter, deliverables, pilots, training
from models.db import session_scope
from models.read.consultancy import consultancy_screen
from models.read.overview import overview_screen
from models.read.steps import next_steps
from models.read.territory import territory_screen
from models.schedule import STAGES
from models.tables import CharterParty
from tests.conftest import at, ctx_of, select_three_pilots

ARRAS = "200033579"


def _start_arras(url: str) -> None:
    select_three_pilots(url)
    with session_scope(url) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        for party in ("territoire", "cerdd", "prestataire"):
            charter.sign_charter(ctx, arras, party=party, signatory="X", at=at("2015-06-12T10:00"))
    for stage in STAGES:
        run_one_stage(stage.name, at("2015-07-01T09:30"))


def test_a_missing_signature_is_on_the_page_of_the_party_that_signs(loaded: str) -> None:
    select_three_pilots(loaded)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        charter.sign_charter(ctx, arras, party="cerdd", signatory="X", at=at("2015-06-10T10:00"))
        now = at("2015-06-11T10:00")
        territory = [s.what for s in territory_screen(ctx, arras, ARRAS, now).steps]
        consultancy = [s.what for b in consultancy_screen(ctx, ARRAS, now) for s in b.steps]
        cerdd = [s.what for s in overview_screen(ctx, arras, now).steps]
    assert territory == ["signature de la charte par le territoire"]
    assert consultancy == ["signature de la charte par le prestataire"]
    assert cerdd == []


def test_a_territory_sees_its_sessions_and_never_the_consultancys_deliverables(loaded: str) -> None:
    _start_arras(loaded)
    now = at("2015-07-20T10:00")
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        steps = territory_screen(ctx, arras, ARRAS, now).steps
        assert [s.what.split(" « ")[0] for s in steps] == ["réponse à l'invitation à la session"]
        first = min((s for s in training.sessions_of(ctx, arras) if s.starts_at > now), key=lambda s: s.starts_at)
        training.answer_invitation(ctx, arras, first, attending=True, people="Claire Dufour", at=now)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        steps = territory_screen(ctx, arras, ARRAS, now).steps
        consultancy = [s.what for b in consultancy_screen(ctx, ARRAS, now) for s in b.steps]
    assert [s.what for s in steps] == [f"session « {first.title} »"]
    assert consultancy and all(what.startswith("remise du livrable") for what in consultancy)


def test_a_session_the_territory_will_not_attend_is_not_on_its_list(loaded: str) -> None:
    _start_arras(loaded)
    now = at("2015-07-20T10:00")
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        first = min((s for s in training.sessions_of(ctx, arras) if s.starts_at > now), key=lambda s: s.starts_at)
        training.answer_invitation(ctx, arras, first, attending=False, people="", at=now)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        assert next_steps(ctx, pilots.find_pilot(ctx, ARRAS), now, CharterParty.TERRITORY) == []


def test_the_cerdd_reviews_what_was_handed_in_and_decides_what_was_asked(loaded: str) -> None:
    _start_arras(loaded)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        first, second = deliverables.deliverables_of(ctx, arras)[:2]
        deliverables.deliver(ctx, first, at=at("2015-07-30T16:00"), by="prestataire")
        deliverables.request_due_date(ctx, second, to=at("2015-10-15T18:00"), reason="Entretiens décalés",
                                      at=at("2015-07-31T09:00"))
        titles = (first.title, second.title)
    now = at("2015-07-31T10:00")
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        cerdd = [s.what for s in overview_screen(ctx, arras, now).steps]
        consultancy = [s.what for b in consultancy_screen(ctx, ARRAS, now) for s in b.steps]
        territory = [s.what for s in territory_screen(ctx, arras, ARRAS, now).steps]
    assert cerdd == [f"examen du livrable « {titles[0]} » remis",
                     f"décision sur la nouvelle échéance demandée pour « {titles[1]} »"]
    assert f"remise du livrable « {titles[0]} »" not in consultancy
    assert f"remise du livrable « {titles[1]} »" in consultancy
    assert not any("livrable" in what for what in territory)
