"""A change of a running programme, on one started pilot (the CU d'Arras, kicked off on 1 July
2015), on SQLite and PostgreSQL: the plan's moves and refusals, the preview required by the apply,
the apply's « avant » values undone by the history, rules broken refused with nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import func, select

from flows.programme_preview import preview_change
from models.db import session_scope
from models.errors import InvalidInput, Refused
from models.history import History
from models.programme import ProgrammeDefinition
from models.programme_apply import apply_change
from models.programme_change import plan_change
from models.tables import AuditEntry, Notice, PilotPhase, Programme, TrainingSession
from notifications.render import render_notice
from tests.conftest import at, ctx_of, select_three_pilots, start_arras


def _changed(url: str, **edits: Any) -> ProgrammeDefinition:
    """The stored definition with `edits` (section → key → field → value) applied."""
    with session_scope(url) as session:
        data = session.exec(select(Programme.definition)).one()
    for section, items in edits.items():
        for item in data["accompaniment"][section]:
            item.update(items.get(item["key"], {}))
    return ProgrammeDefinition.model_validate(data)


@pytest.fixture
def started(loaded: str) -> str:
    select_three_pilots(loaded)
    start_arras(loaded)
    return loaded


def _apply(url: str, definition: ProgrammeDefinition, when: str, *, previewed: bool = True) -> Any:
    with session_scope(url) as session:
        return apply_change(ctx_of(session), definition, source="v2.yaml", templates={}, reason="Salle prise",
                            at=at(when), actor="test", previewed=previewed)


def _state(url: str) -> tuple[object, ...]:
    with session_scope(url) as session:
        return (session.exec(select(func.count()).select_from(AuditEntry)).one(),
                session.exec(select(func.count()).select_from(Notice)).one(),
                sorted((s.key, s.starts_at, s.sequence) for s in session.exec(select(TrainingSession))))


def test_apply_moves_what_the_preview_showed_and_history_undoes_it(started: str) -> None:
    definition = _changed(started, sessions={"formation-2": {"at": "P3M1W"}},
                          phases={"espace-innovation": {"end": "P8M"}})
    with pytest.raises(Refused, match="programme diff"):
        _apply(started, definition, "2015-09-01T10:00")  # never previewed
    preview = preview_change(started, definition, source="v2.yaml", templates={}, at=at("2015-09-01T10:00"),
                             renderer=render_notice)
    assert preview.problems == [] and preview.plan.refused == []
    assert {(m.kind, m.key, m.before, m.after) for m in preview.plan.moves} == {
        ("session", "formation-2", at("2015-10-01T09:30"), at("2015-10-08T09:30")),
        ("phase", "espace-innovation", at("2015-12-01T09:30"), at("2015-12-01T09:30"))}
    applied = _apply(started, definition, "2015-09-01T10:00")
    assert applied.version == 2 and len(applied.plan.moves) == 2
    with session_scope(started) as session:
        moved = session.exec(select(TrainingSession).where(TrainingSession.key == "formation-2")).one()
        phase = session.exec(select(PilotPhase).where(PilotPhase.key == "espace-innovation")).one()
        assert (moved.starts_at, moved.sequence, phase.ends_at) == (at("2015-10-08T09:30"), 1, at("2016-03-01T09:30"))
        past = History(session, session.exec(select(Programme.id)).one() or 0, at("2015-08-31T00:00"))
        assert past.at(moved).starts_at == at("2015-10-01T09:30")
        assert past.at(phase).ends_at == at("2016-02-01T09:30")
        told = session.exec(select(Notice).where(Notice.kind == "changement_programme")).all()
    assert len(told) == len({n.recipient_email for n in told}) >= 4  # once per person
    assert all("Salle prise" in n.body_text and "8 octobre 2015" in n.body_text for n in told)
    before = _state(started)
    assert _apply(started, definition, "2015-09-01T11:00").version is None  # the same file again
    assert _state(started) == before


def test_what_is_past_is_refused_and_never_moved(started: str) -> None:
    definition = _changed(started, sessions={"formation-1": {"at": "P1M1W"}, "formation-2": {"at": "P3M1W"}})
    with session_scope(started) as session:
        plan = plan_change(ctx_of(session), definition, at("2015-08-05T10:00"))
    assert [(r.key, r.why) for r in plan.refused] == [
        ("formation-1", "la session a commencé le lundi 3 août 2015 à 9h30")]
    assert [m.key for m in plan.moves] == ["formation-2"]


def test_a_change_breaking_the_rules_is_refused_with_every_problem_and_writes_nothing(started: str) -> None:
    from flows.plain import run_one_stage
    from models.charter import sign_charter
    from models.pilots import find_pilot
    from models.schedule import STAGES

    with session_scope(started) as session:  # a second pilot under way: Lens, its sessions a week later
        ctx = ctx_of(session)
        for party in ("territoire", "cerdd", "prestataire"):
            sign_charter(ctx, find_pilot(ctx, "CA de Lens - Liévin"), party=party, signatory="X",
                         at=at("2015-06-20T10:00"))
    for stage in STAGES:
        run_one_stage(stage.name, at("2015-07-01T10:00"))
    # both pilots' formation-2 at the Cerdd, the same morning
    definition = _changed(started, sessions={"formation-2": {"place": "Cerdd, Base du 11/19, Loos-en-Gohelle",
                                                             "stagger": None}})
    preview = preview_change(started, definition, source="v2.yaml", templates={}, at=at("2015-09-01T10:00"),
                             renderer=render_notice)
    assert preview.problems and all("chevaucherait" in p and "formation-2" in p for p in preview.problems)
    assert preview.differences == []  # nothing replayed for a change that cannot be applied
    before = _state(started)
    with pytest.raises(InvalidInput) as refused:
        _apply(started, definition, "2015-09-01T10:00", previewed=False)
    assert refused.value.details == preview.problems
    assert _state(started) == before


def test_two_applies_at_once_apply_the_change_once(started: str) -> None:
    """Two `programme apply` of one file at once (the CLI holds the programme, `load_ctx(lock=True)`):
    the second waits for the first to commit, then finds nothing to change; one version, one notice
    per person. Without the lock the second read the old definition and applied it again (the
    attack: every person told twice, or a duplicate key)."""
    import threading
    import time

    from models.context import load_ctx

    definition = _changed(started, sessions={"formation-2": {"at": "P3M1W"}})
    preview_change(started, definition, source="v2.yaml", templates={}, at=at("2015-09-01T10:00"),
                   renderer=render_notice)
    applied = threading.Event()
    results: dict[str, Any] = {}

    def apply(name: str, first: bool) -> None:
        try:
            if not first:
                applied.wait(30)
            with session_scope(started) as session:
                ctx = load_ctx(session, lock=True, renderer=render_notice)
                results[name] = apply_change(ctx, definition, source="v2.yaml", templates={}, reason="Salle prise",
                                             at=at("2015-09-01T10:00"), actor=name).version
                if first:
                    applied.set()
                    time.sleep(1.0)  # the second is now waiting for the programme (or, unlocked, applying too)
        except Exception as exc:  # noqa: BLE001 - the assertion below names it
            results[name] = exc

    threads = [threading.Thread(target=apply, args=("premier", True)),
               threading.Thread(target=apply, args=("second", False))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == {"premier": 2, "second": None}
    with session_scope(started) as session:
        told = session.exec(select(Notice).where(Notice.kind == "changement_programme")).all()
        assert session.exec(select(Programme.version)).one() == 2
    assert told and len(told) == len({n.recipient_email for n in told})


def test_a_session_added_by_a_change_is_laid_out_with_its_audience(started: str) -> None:
    with session_scope(started) as session:
        data = session.exec(select(Programme.definition)).one()
    model = next(s for s in data["accompaniment"]["sessions"] if s["key"] == "formation-2")
    data["accompaniment"]["sessions"].append({**model, "key": "atelier-bonus", "title": "Atelier en plus",
                                              "at": "P4M", "audience": "Élus et agents du territoire"})
    definition = ProgrammeDefinition.model_validate(data)
    preview_change(started, definition, source="v2.yaml", templates={}, at=at("2015-09-01T10:00"),
                   renderer=render_notice)
    assert _apply(started, definition, "2015-09-01T10:00").version == 2
    with session_scope(started) as session:
        added = session.exec(select(TrainingSession).where(TrainingSession.key == "atelier-bonus")).all()
    assert [(s.title, s.audience) for s in added] == [("Atelier en plus", "Élus et agents du territoire")]
