"""A tick runs only the stages that have something due (`models.schedule.due_stages`); it must
send exactly what ticking every stage at every instant sends. A generated programme of 20 pilots
(bench/national.py) is ticked through its year twice, with the same facts between ticks:
once every stage at every tick (the reference), once only the due stages."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bench.national import KICKOFF, build, epci_siren
from config.settings import reset_settings
from flows.plain import TickResult, run_tick_plain
from models import deliverables, pilots, training, withdrawal
from models.clock import parse_instant
from models.db import dispose_engines, session_scope
from models.schedule import STAGES
from models.tables import Milestone, Notice, Pilot
from tests.conftest import ctx_of

PILOTS = 20
END = parse_instant("2016-07-15T09:00")


def _instants() -> list[datetime]:
    """Every Monday 09:00 and Thursday 14:00 (Paris) of the accompaniment, after the kick-off."""
    found = [KICKOFF]
    day = KICKOFF + timedelta(days=1)
    while day < END:
        local = day.date()
        if local.weekday() == 0:
            found.append(parse_instant(f"{local.isoformat()}T09:00"))
        elif local.weekday() == 3:
            found.append(parse_instant(f"{local.isoformat()}T14:00"))
        day += timedelta(days=1)
    return found


def _facts(url: str, instant: datetime, done: set[str]) -> None:
    """What people do between ticks (the same in both runs): hand-ins, reviews, a postponement,
    a moved session, attendance, a withdrawal."""
    steps = [
        ("2015-07-27T16:00", "deliver"), ("2015-07-30T10:00", "accept"), ("2015-08-20T10:00", "postpone"),
        ("2015-09-03T10:00", "attend"), ("2015-09-21T10:00", "reschedule"), ("2015-10-05T10:00", "withdraw"),
    ]
    for when, what in steps:
        at = parse_instant(when)
        if what in done or at > instant:
            continue
        done.add(what)
        with session_scope(url) as session:
            ctx = ctx_of(session)
            if what == "deliver":
                for index in range(5):
                    deliverable = deliverables.find_deliverable(ctx, pilots.find_pilot(ctx, epci_siren(index)),
                                                                "methode")
                    deliverables.deliver(ctx, deliverable, at=at, by="prestataire")
            elif what == "accept":
                for index in range(3):
                    deliverable = deliverables.find_deliverable(ctx, pilots.find_pilot(ctx, epci_siren(index)),
                                                                "methode")
                    deliverables.accept(ctx, deliverable, at=at)
            elif what == "postpone":
                deliverable = deliverables.find_deliverable(ctx, pilots.find_pilot(ctx, epci_siren(1)), "diagnostic")
                deliverables.postpone(ctx, deliverable, to=parse_instant("2015-09-15T18:00"),
                                      reason="Entretiens décalés",
                                      at=at)
            elif what == "attend":
                training_session = training.find_session(ctx, pilots.find_pilot(ctx, epci_siren(0)), "formation-1")
                training.record_attendance(ctx, training_session, person="Claire Dufour", organisation="Territoire",
                                          present=True, at=at)
            elif what == "reschedule":
                training_session = training.find_session(ctx, pilots.find_pilot(ctx, epci_siren(2)), "formation-2")
                training.reschedule(ctx, training_session, to=parse_instant("2015-10-06T14:00"),
                                    reason="Salle indisponible", at=at)
            else:
                withdrawal.withdraw(ctx, pilots.find_pilot(ctx, epci_siren(3)), reason="Retrait du territoire", at=at)


def _run(url: str, *, every_stage: bool) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], int]:
    done: set[str] = set()
    skipped = 0
    for instant in _instants():
        _facts(url, instant, done)
        result: TickResult = run_tick_plain(instant, every_stage=every_stage)
        skipped += 0 if every_stage or any(result.changes.values()) else len(STAGES) - len(result.due)
    with session_scope(url) as session:
        notices = sorted((n.kind, n.recipient_email, n.dedup_key, n.created_at, n.deliver_after, n.status)
                         for n in session.exec(select(Notice)).all())
        facts = sorted((p.name, p.status, m.key, m.reached_at, m.missed_at)
                       for m, p in session.exec(select(Milestone, Pilot).join(Pilot)).all())
    return notices, facts, skipped


@pytest.mark.slow
def test_a_year_of_20_pilots_sends_the_same_notices_as_ticking_every_stage(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    results = {}
    for every_stage in (True, False):
        url = f"sqlite:///{tmp_path / f'national-{every_stage}.db'}"
        monkeypatch.setenv("DATABASE_URL", url)
        monkeypatch.setenv("OUTBOX_DIR", str(tmp_path / f"outbox-{every_stage}"))
        reset_settings()
        build(url, PILOTS, until=KICKOFF - timedelta(days=1))
        results[every_stage] = _run(url, every_stage=every_stage)
        dispose_engines()
    reference, due_only = results[True], results[False]
    assert len(reference[0]) > 20 * PILOTS  # a real year: invitations, reminders, phases, milestones
    assert {kind for kind, *_ in reference[0]} >= {"invitation_session", "rappel_livrable", "debut_phase",
                                                   "jalon_en_retard", "bilan_cloture"}
    assert due_only[0] == reference[0]
    assert due_only[1] == reference[1]
    assert due_only[2] > 100  # stages with nothing due were really left out, many times


def test_an_idle_tick_is_recorded_with_its_plan_unless_a_notice_waits(loaded: str) -> None:
    """A tick with no stage due and no notice waiting is one transaction: planned and recorded
    together, nothing delivered; a notice waiting to leave makes it a full tick that delivers it."""
    from models.notices import NoticeKind, Recipient
    from models.schedule import next_due
    from tests.conftest import at

    launch = at("2015-04-02T09:00")
    assert run_tick_plain(launch).changes  # the call opens
    with session_scope(loaded) as session:
        coming = next_due(session, launch)
    assert coming is not None and coming > launch + timedelta(hours=3)
    after = run_tick_plain(launch + timedelta(minutes=30))  # the launch's own facts: every stage once more
    assert not after.recorded and not after.changed
    idle = run_tick_plain(launch + timedelta(hours=1))
    assert idle.recorded and not idle.due and idle.delivery.sent == 0
    with session_scope(loaded) as session:
        assert ctx_of(session).programme.last_tick_at == launch + timedelta(hours=1)
        ctx_of(session).notify(NoticeKind.CALL_LAUNCHED, recipients=[Recipient("epci@example.org", "EPCI")],
                               key="en-attente", context={}, at=launch + timedelta(hours=1))
    busy = run_tick_plain(launch + timedelta(hours=2))
    assert not busy.recorded and busy.delivery.sent == 1
    with session_scope(loaded) as session:
        assert ctx_of(session).programme.last_tick_at == launch + timedelta(hours=2)
