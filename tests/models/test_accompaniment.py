"""Jury selection, charter, kick-off, sessions and deliverables: the rules, instant by instant."""

from __future__ import annotations

import pytest
from sqlmodel import select

from flows.plain import run_one_stage
from models import charter, deliverables, pilots, training
from models.accompaniment import progress
from models.clock import paris
from models.db import session_scope
from models.decision import DecisionForm, decide_from_form
from models.errors import InvalidInput
from models.read.steps import next_steps
from models.schedule import STAGES
from models.tables import Notice, Pilot, Programme
from tests.conftest import at, close_call_with_territories, ctx_of, score, select_three_pilots


def _tick(url: str, instant: str) -> int:
    changes = 0
    for stage in STAGES:
        changes += run_one_stage(stage.name, at(instant))
    return changes








def _notices(url: str, kind: str) -> list[Notice]:
    with session_scope(url) as session:
        return list(session.exec(select(Notice).where(Notice.kind == kind)).all())


def test_selection_waits_for_missing_scores_and_says_so_once_a_day(loaded: str) -> None:
    close_call_with_territories(loaded)
    score(loaded, "notes-dreal.yaml", "notes-region.yaml")  # the Cerdd's juror has not scored
    _tick(loaded, "2015-06-04T14:00")
    _tick(loaded, "2015-06-04T18:00")
    _tick(loaded, "2015-06-05T09:00")
    blocked = _notices(loaded, "selection_bloquee")
    assert [paris(n.created_at).date().isoformat() for n in blocked] == ["2015-06-04", "2015-06-05"]
    assert "3 candidature(s) n'ont pas toutes leurs notes" in blocked[0].body_text
    score(loaded, "notes-cerdd.yaml")
    _tick(loaded, "2015-06-05T10:00")
    requested = _notices(loaded, "decision_attendue")  # the ranking is now a proposal for the secretary
    assert len(requested) == 1 and "CU d'Arras" in requested[0].body_text
    _tick(loaded, "2015-06-05T11:00")
    assert len(_notices(loaded, "decision_attendue")) == 1  # asked once
    with session_scope(loaded) as session:
        assert session.exec(select(Programme.state)).one() == "appel_clos"
        decide_from_form(ctx_of(session), DecisionForm(secretaire="Emmanuel Bertin"), at("2015-06-05T11:30"))
    with session_scope(loaded) as session:
        assert session.exec(select(Programme.state)).one() == "pilotes_selectionnes"
        assert [p.name for p in session.exec(select(Pilot).order_by(Pilot.rank))] == [
            "CU d'Arras", "CA de Lens - Liévin", "CC de Flandre Intérieure"]


def test_a_late_signature_delays_the_kick_off_and_the_whole_schedule(loaded: str) -> None:
    select_three_pilots(loaded)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, "200033579")
        for party in ("territoire", "cerdd"):
            charter.sign_charter(ctx, arras, party=party, signatory="X", at=at("2015-06-10T10:00"))
        assert not charter.sign_charter(ctx, arras, party="cerdd", signatory="X", at=at("2015-06-11T10:00"))
        with pytest.raises(Exception, match="Partie inconnue"):
            charter.sign_charter(ctx, arras, party="maire", signatory="X", at=at("2015-06-11T10:00"))
    _tick(loaded, "2015-07-01T09:30")  # planned kick-off: the consultancy has not signed
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, "200033579")
        assert arras.status == "charte_en_attente"
        charter.sign_charter(ctx, arras, party="prestataire", signatory="Cheffe", at=at("2015-07-08T15:00"))
    _tick(loaded, "2015-07-08T15:00")
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, "200033579")
        assert (arras.status, arras.kickoff_at, arras.ends_at) == (
            "en_cours", at("2015-07-08T15:00"), at("2016-07-08T15:00"))
        first = training.sessions_of(ctx, arras)[0]
        # One month after the kick-off (Saturday 8 August) moves to Monday 10 August, 09:30.
        assert first.starts_at == at("2015-08-10T09:30")
        method = deliverables.find_deliverable(ctx, arras, "methode")
        assert method.due_at == at("2015-08-10T18:00")
    reminded = _notices(loaded, "relance_charte")
    assert {n.recipient_email for n in reminded if "Arras" in n.subject} == {
        "cheffe-de-projet@prestataire.example.org", "aboutonne@cerdd.org"}


def test_sessions_are_announced_then_recalled_and_progress_is_counted(loaded: str) -> None:
    select_three_pilots(loaded)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        for siren in ("200033579", "246200364", "200040947"):
            pilot = pilots.find_pilot(ctx, siren)
            for party in ("territoire", "cerdd", "prestataire"):
                charter.sign_charter(ctx, pilot, party=party, signatory="X", at=at("2015-06-10T10:00"))
    _tick(loaded, "2015-07-01T09:30")
    # Formation 1 on Monday 3 August 2015: invitation 15 working days before (Friday 10 July,
    # 14 July being a holiday), reminder 2 working days before (Thursday 30 July).
    for instant in ("2015-07-09T09:00", "2015-07-10T09:00", "2015-07-30T09:00", "2015-07-30T09:00"):
        _tick(loaded, instant)
    arras = [n for n in _notices(loaded, "invitation_session") + _notices(loaded, "rappel_session")
             if "claire.dufour" in n.recipient_email and "fonctionnalité" in n.subject]
    assert sorted((n.kind, paris(n.created_at).date().isoformat()) for n in arras) == [
        ("invitation_session", "2015-07-10"), ("rappel_session", "2015-07-30")]
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        pilot = pilots.find_pilot(ctx, "200033579")
        training_session = training.find_session(ctx, pilot, "formation-1")
        with pytest.raises(InvalidInput, match="nom de la personne"):
            training.record_attendance(ctx, training_session, person=" ", organisation="CU", present=True,
                                       at=at("2015-08-03T13:00"))
        training.record_attendance(ctx, training_session, person="A", organisation="CU", present=True,
                                   at=at("2015-08-03T13:00"))
        training.record_attendance(ctx, training_session, person="B", organisation="CU", present=False,
                                   at=at("2015-08-03T13:00"))
        deliverables.deliver(ctx, deliverables.find_deliverable(ctx, pilot, "methode"), at=at("2015-08-03T17:59"),
                             by="prestataire")
        state = progress(ctx, pilot, at("2015-09-15T09:00"))
    assert (state.sessions_held, state.attendance_percent) == (1, 50)
    # The method was due Monday 3 August at 18:00 (1 August is a Saturday); the diagnostic on 1 September.
    assert (state.deliverables_on_time, state.deliverables_late, state.deliverables_overdue) == (1, 0, 1)
    assert state.current_phase == "Développer une culture partagée"


def test_nothing_happens_before_its_time(loaded: str) -> None:
    assert _tick(loaded, "2015-04-02T08:59:59") == 0
    assert _notices(loaded, "appel_lance") == []


def test_next_steps_name_missing_signatures_then_sessions_and_deliverables(loaded: str) -> None:
    select_three_pilots(loaded)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, "200033579")
        charter.sign_charter(ctx, arras, party="cerdd", signatory="X", at=at("2015-06-10T10:00"))
        steps = next_steps(ctx, arras, at("2015-06-29T10:00"))
    assert [(s.what, s.late) for s in steps] == [("signature de la charte par le prestataire", True),
                                                 ("signature de la charte par le territoire", True),
                                                 ("décision sur la charte non signée : prolonger le délai ou "
                                                  "retirer le pilote", True)]
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, "200033579")
        for party in ("territoire", "prestataire"):
            charter.sign_charter(ctx, arras, party=party, signatory="X", at=at("2015-06-30T10:00"))
    _tick(loaded, "2015-07-01T09:30")
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        steps = next_steps(ctx, pilots.find_pilot(ctx, "200033579"), at("2015-08-04T10:00"))
    assert [(paris(s.when).date().isoformat(), s.what.split(" « ")[0], s.late) for s in steps] == [
        ("2015-08-03", "remise du livrable", True), ("2015-09-01", "remise du livrable", False),
        ("2015-10-01", "réponse à l'invitation à la session", False)]


def test_jurors_with_scores_missing_are_reminded(loaded: str) -> None:
    close_call_with_territories(loaded)
    score(loaded, "notes-dreal.yaml")
    for instant in ("2015-05-29T09:00", "2015-06-01T09:00", "2015-06-01T09:00", "2015-06-03T09:00"):
        _tick(loaded, instant)
    reminders = _notices(loaded, "rappel_jury")
    assert sorted((n.recipient_email, paris(n.created_at).date().isoformat()) for n in reminders) == [
        ("ebertin@cerdd.org", "2015-06-01"), ("ebertin@cerdd.org", "2015-06-03"),
        ("jury-region@example.org", "2015-06-01"), ("jury-region@example.org", "2015-06-03")]
    assert "CERDD-2015-0001" in reminders[0].body_text and "3 candidature(s) à noter" in reminders[0].subject
