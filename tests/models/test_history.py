"""Lists, reports and progress at an earlier instant show sessions and deliverables as they stood
then: a later move, cancellation, postponement or return is undone (`models.history`)."""

from __future__ import annotations

from datetime import datetime

from models import deliverables, pilots, training
from models.accompaniment import progress
from models.db import session_scope
from models.read.deliverables import DeliverableView, deliverable_rows
from models.read.report_data import pilot_views
from models.read.sessions import SessionView, session_rows
from tests.conftest import at, ctx_of
from tests.models.test_year_of_a_pilot import ARRAS, _started

FIRST = at("2015-08-03T09:30")  # formation 1 of the CU d'Arras, as planned at the kick-off
MOVED = at("2015-08-05T14:00")
BEFORE, AFTER_MOVE, AFTER_CANCEL = at("2015-07-15T10:00"), at("2015-07-25T10:00"), at("2015-08-04T10:00")


def _move_then_cancel(url: str) -> None:
    with session_scope(url) as session:
        ctx = ctx_of(session)
        training_session = training.find_session(ctx, pilots.find_pilot(ctx, ARRAS), "formation-1")
        assert training_session.starts_at == FIRST
        training.reschedule(ctx, training_session, to=MOVED, reason="Salle du conseil prise", at=at("2015-07-20T10:00"),
                            place="Hôtel de ville d'Arras")
        training.cancel(ctx, training_session, reason="Intempéries", at=at("2015-08-04T08:00"))


def _formation(url: str, as_of: datetime) -> SessionView:
    with session_scope(url) as session:
        rows = session_rows(ctx_of(session), as_of, ARRAS)
    return next(r for r in rows if r.key == "formation-1")


def test_a_session_list_shows_the_date_place_and_state_of_its_instant(loaded: str) -> None:
    _started(loaded)
    _move_then_cancel(loaded)
    before, moved, cancelled = (_formation(loaded, when) for when in (BEFORE, AFTER_MOVE, AFTER_CANCEL))
    assert (before.starts_at, before.place, before.sequence) == (FIRST, "Siège de la CU d'Arras", 0)
    assert not before.state.startswith("annulée") and "déplacée" not in before.state
    assert (moved.starts_at, moved.place, moved.sequence, moved.state) == (
        MOVED, "Hôtel de ville d'Arras", 1, "prévue (déplacée)")
    assert cancelled.state == "annulée (Intempéries)" and cancelled.sequence == 2


def test_the_report_and_progress_count_a_session_cancelled_later(loaded: str) -> None:
    _started(loaded)
    _move_then_cancel(loaded)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        totals = {when: progress(ctx, arras, when).sessions_total for when in (BEFORE, AFTER_CANCEL)}
        assert totals[BEFORE] == totals[AFTER_CANCEL] + 1
        timeline = {when: {i.key: i for i in pilot_views(ctx, when, ARRAS)[0].sessions}
                    for when in (BEFORE, AFTER_CANCEL, at("2015-09-01T10:00"))}
    assert timeline[BEFORE]["formation-1"].start == FIRST and timeline[BEFORE]["formation-1"].state == "a_venir"
    assert timeline[AFTER_CANCEL]["formation-1"].start == MOVED
    late = timeline[at("2015-09-01T10:00")]["formation-1"]
    assert late.state == "annulee" and late.done_at is None  # a cancelled session was never held


def test_a_deliverable_list_shows_the_due_date_and_hand_in_of_its_instant(loaded: str) -> None:
    _started(loaded)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        deliverable = deliverables.find_deliverable(ctx, arras, "diagnostic")
        planned = deliverable.due_at
        deliverables.postpone(ctx, deliverable, to=at("2015-09-15T18:00"), reason="Entretiens d'été décalés",
                              at=at("2015-08-10T10:00"))
        method = deliverables.find_deliverable(ctx, arras, "methode")
        first_due = method.due_at
        deliverables.deliver(ctx, method, at=at("2015-07-30T16:00"), by="prestataire")
        deliverables.return_for_rework(ctx, method, comment="Préciser le calendrier", at=at("2015-07-31T10:00"),
                                       due=at("2015-08-14T18:00"))

    def row(key: str, when: datetime) -> DeliverableView:
        with session_scope(loaded) as session:
            return next(r for r in deliverable_rows(ctx_of(session), when, ARRAS) if r.key == key)

    assert row("diagnostic", at("2015-08-01T10:00")).due_at == planned
    assert row("diagnostic", at("2015-08-11T10:00")).due_at == at("2015-09-15T18:00")
    handed_in = row("methode", at("2015-07-30T18:00"))  # between the hand-in and the return
    assert (handed_in.due_at, handed_in.delivered_at) == (first_due, at("2015-07-30T16:00"))
    assert handed_in.state.startswith("remis")
    returned = row("methode", at("2015-08-01T10:00"))
    assert (returned.due_at, returned.delivered_at, returned.state) == (at("2015-08-14T18:00"), None, "à reprendre")
    assert row("methode", at("2015-07-20T10:00")).delivered_at is None  # not handed in yet at that instant


def test_no_deliverable_is_listed_before_its_pilot_was_launched(loaded: str) -> None:
    _started(loaded)  # the CU d'Arras starts on 1 July 2015 at 9:30
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        assert deliverable_rows(ctx, at("2015-06-20T10:00"), ARRAS) == []
        assert deliverable_rows(ctx, at("2015-07-01T09:29"), ARRAS) == []
        assert deliverable_rows(ctx, at("2015-07-01T09:30"), ARRAS)
