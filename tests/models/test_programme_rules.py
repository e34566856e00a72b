"""The guard rails of a change of a running programme (issue 26): `clashes` names, in French, each
rule a proposed layout breaks, against the pilot's year and the sessions already stored."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from models import pilots, training
from models.db import get_engine, session_scope
from models.programme_rules import Kind, Placed, clashes
from models.tables import Pilot, TrainingSession
from tests.conftest import at, ctx_of, start_arras

ARRAS = "200033579"
LENS = "246200364"
KICKOFF = at("2015-07-01T09:30")
END = at("2016-07-01T09:30")


@pytest.fixture
def started(selected: str) -> str:
    """The CU d'Arras laid out from 1 July 2015 to 1 July 2016; the two other pilots not started."""
    start_arras(selected)
    return selected


def _pilot(session: Session, reference: str) -> Pilot:
    return pilots.find_pilot(ctx_of(session), reference)


def _item(pilot: Pilot, kind: Kind, key: str, starts: datetime, ends: datetime | None = None,
          place: str | None = None) -> Placed:
    return Placed(pilot.id or 0, pilot.name, kind, key, starts, ends, place)


def _one(url: str, kind: Kind, key: str, starts: datetime, ends: datetime | None = None,
         place: str | None = None) -> tuple[str, list[str]]:
    """The CU d'Arras's name and the problems of one of its items placed so."""
    with session_scope(url) as session:
        arras = _pilot(session, ARRAS)
        return arras.name, clashes(ctx_of(session), [_item(arras, kind, key, starts, ends, place)])


def _stored(session: Session, pilot: Pilot, key: str) -> TrainingSession:
    return session.exec(select(TrainingSession).where(TrainingSession.pilot_id == pilot.id,
                                                      TrainingSession.key == key)).one()


def test_a_layout_within_the_rules_has_no_problem(started: str) -> None:
    with session_scope(started) as session:
        arras = _pilot(session, ARRAS)
        formation = _stored(session, arras, "formation-2")
        week = timedelta(days=7)
        assert clashes(ctx_of(session), [
            _item(arras, "session", "formation-2", formation.starts_at + week, formation.ends_at + week,
                  formation.location),
            _item(arras, "livrable", "rapport-final", END - timedelta(days=1)),
            _item(arras, "jalon", "diffusion", END),
            _item(arras, "phase", "ressources-diffusion", at("2016-05-01T09:30"), END),
        ]) == []


def test_a_session_before_the_kickoff_is_refused(started: str) -> None:
    name, problems = _one(started, "session", "formation-1", at("2015-06-30T09:30"), at("2015-06-30T12:30"),
                          "Ailleurs")
    assert problems == [f"{name} : la session formation-1 commencerait le mardi 30 juin 2015 à 9h30, avant "
                        "le lancement de son accompagnement (le mercredi 1er juillet 2015 à 9h30)."]


def test_a_session_ending_after_the_pilot_s_end_is_refused(started: str) -> None:
    name, problems = _one(started, "session", "atelier-projets", at("2016-07-01T08:00"), at("2016-07-01T11:00"),
                          "Ailleurs")
    assert problems == [f"{name} : la session atelier-projets finirait le vendredi 1er juillet 2016 à 11h00, après "
                        "la fin de son accompagnement (le vendredi 1er juillet 2016 à 9h30)."]


@pytest.mark.parametrize(("kind", "key", "verb"), [("livrable", "rapport-final", "le livrable rapport-final serait dû"),
                                                   ("jalon", "diffusion", "le jalon diffusion tomberait")])
def test_a_deliverable_or_milestone_after_the_end_is_refused(started: str, kind: Kind, key: str, verb: str) -> None:
    name, problems = _one(started, kind, key, at("2016-07-04T18:00"))
    assert problems == [f"{name} : {verb} le lundi 4 juillet 2016 à 18h00, après la fin de son "
                        "accompagnement (le vendredi 1er juillet 2016 à 9h30)."]


def test_a_phase_ending_before_it_starts_is_refused(started: str) -> None:
    name, problems = _one(started, "phase", "former-outiller", at("2015-12-01T09:30"), at("2015-11-01T09:30"))
    assert problems == [f"{name} : la phase former-outiller finirait le dimanche 1er novembre 2015 à 9h30, "
                        "avant de commencer (le mardi 1er décembre 2015 à 9h30)."]


def test_a_phase_outside_the_pilot_s_year_is_refused(started: str) -> None:
    name, problems = _one(started, "phase", "ressources-diffusion", at("2016-05-01T09:30"), at("2016-08-01T09:30"))
    assert problems == [f"{name} : la phase ressources-diffusion (du dimanche 1er mai 2016 à 9h30 au lundi "
                        "1er août 2016 à 9h30) sortirait de son année d'accompagnement (du mercredi 1er juillet "
                        "2015 à 9h30 au vendredi 1er juillet 2016 à 9h30)."]


def test_two_proposed_sessions_at_one_place_and_time_clash(started: str) -> None:
    with session_scope(started) as session:
        arras, lens = _pilot(session, ARRAS), _pilot(session, LENS)
        problems = clashes(ctx_of(session), [
            _item(arras, "session", "formation-1", at("2015-11-02T09:30"), at("2015-11-02T12:30"), "Salle A"),
            _item(lens, "session", "formation-1", at("2015-11-02T11:00"), at("2015-11-02T14:00"), "Salle A"),
            _item(lens, "session", "formation-2", at("2015-11-02T12:30"), at("2015-11-02T15:00"), "Salle B"),
        ])
    assert problems == [
        f"Lieu « Salle A » : la session formation-1 de {arras.name} (du lundi 2 novembre 2015 à 9h30 au lundi "
        f"2 novembre 2015 à 12h30) chevaucherait la session formation-1 de {lens.name} (du lundi 2 novembre 2015 "
        "à 11h00 au lundi 2 novembre 2015 à 14h00)."]


def test_a_proposed_session_clashes_with_a_stored_one_of_another_pilot(started: str) -> None:
    with session_scope(started) as session:
        arras, lens = _pilot(session, ARRAS), _pilot(session, LENS)
        stored = _stored(session, arras, "formation-1")
        problems = clashes(ctx_of(session), [
            _item(lens, "session", "formation-1", stored.starts_at + timedelta(hours=1),
                  stored.ends_at + timedelta(hours=1), stored.location)])
    assert len(problems) == 1
    assert problems[0].startswith(f"Lieu « {stored.location} » : la session formation-1 de {arras.name} (du ")
    assert problems[0].endswith(", déjà prévue) chevaucherait la session formation-1 de "
                                f"{lens.name} (du {_paris(stored.starts_at + timedelta(hours=1))} au "
                                f"{_paris(stored.ends_at + timedelta(hours=1))}).")


def test_a_moved_session_does_not_clash_with_its_own_slot_nor_with_a_cancelled_one(started: str) -> None:
    with session_scope(started) as session:
        ctx = ctx_of(session)
        arras, lens = _pilot(session, ARRAS), _pilot(session, LENS)
        first, second = _stored(session, arras, "formation-1"), _stored(session, arras, "formation-2")
        training.cancel(ctx, second, reason="Salle indisponible", at=at("2015-07-02T10:00"))
        shift = timedelta(minutes=30)
        assert clashes(ctx, [
            _item(arras, "session", "formation-1", first.starts_at + shift, first.ends_at + shift, first.location),
            _item(lens, "session", "formation-2", second.starts_at, second.ends_at, second.location),
        ]) == []


def test_an_item_of_a_pilot_of_no_such_programme_is_named(started: str) -> None:
    with session_scope(started) as session:
        problems = clashes(ctx_of(session), [Placed(999_999, "Nulle part", "jalon", "diffusion", END, None, None)])
    assert problems == ["Nulle part : territoire pilote inconnu de ce programme (le jalon diffusion)."]


def test_the_number_of_queries_does_not_grow_with_the_items(started: str) -> None:
    with session_scope(started) as session:
        ctx = ctx_of(session)
        everyone = [_pilot(session, ARRAS), _pilot(session, LENS)]

        def layout(count: int) -> list[Placed]:
            return [_item(everyone[n % 2], "session", f"s-{n}", at("2015-09-01T09:00") + timedelta(days=n),
                          at("2015-09-01T10:00") + timedelta(days=n), f"Salle {n}") for n in range(count)]

        with _counting(started) as few:
            clashes(ctx, layout(2))
        with _counting(started) as many:
            clashes(ctx, layout(400))
    assert few and len(many) == len(few)


@contextmanager
def _counting(url: str) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    engine = get_engine(url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _paris(value: datetime) -> str:
    from models.clock import format_paris

    return format_paris(value)
