"""A national programme multiplied with SQL (bench/multiply.py) is the programme the product's
functions would have built: a 5-pilot build copied 4 times against a 20-pilot build made through
the product (bench/national.py), the same pilots, items, notices and audit facts, and the same
ticks after it (nothing due at the last instant; a week later, the same stages due and the same
notices queued, word for word). On SQLite, and on PostgreSQL when TEST_DATABASE_URL is set (the
reference is built on SQLite)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table
from sqlmodel import Session, col, func, select

from bench.multiply import Refused, check_rules, multiply
from bench.national import build
from config.settings import reset_settings
from flows.plain import TickResult, run_tick_plain
from models.charter import charter_sha256
from models.context import load_ctx
from models.db import dispose_engines, get_engine
from models.tables import (
    Application,
    AuditEntry,
    Contact,
    Deliverable,
    Milestone,
    Notice,
    Organisation,
    Pilot,
    PilotPhase,
    TrainingSession,
)

BASE, FACTOR = 5, 4
STEP = timedelta(days=28)


def _use(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    dispose_engines()
    monkeypatch.setenv("DATABASE_URL", url)
    reset_settings()


def _state(url: str) -> dict[str, Counter[Any]]:
    """The territories' facts, without ids (keys and UIDs embed them: compared there)."""
    with Session(get_engine(url)) as session:
        def of(*columns: Any, join: Any = None, where: Any = None) -> Counter[Any]:
            query = select(*columns)
            if join is not None:
                query = query.join(join)
            if where is not None:
                query = query.where(where)
            return Counter(tuple(row) for row in session.exec(query).all())

        territory = col(Notice.dedup_key).contains(":pilote-") | col(Notice.dedup_key).contains(
            ":session-") | col(Notice.dedup_key).contains(":livrable-")
        return {
            "pilots": of(Pilot.name, Pilot.rank, Pilot.status, Pilot.kickoff_at, Pilot.ends_at, Pilot.sign_by),
            "sessions": of(Pilot.name, TrainingSession.id, TrainingSession.key, TrainingSession.location,
                           TrainingSession.starts_at, TrainingSession.status, TrainingSession.invited_at,
                           join=Pilot),
            "deliverables": of(Pilot.name, Deliverable.id, Deliverable.key, Deliverable.due_at, join=Pilot),
            "milestones": of(Pilot.name, Milestone.key, Milestone.due_at, Milestone.reached_at, Milestone.missed_at,
                             join=Pilot),
            "phases": of(Pilot.name, PilotPhase.key, PilotPhase.started_at, PilotPhase.completed_at, join=Pilot),
            "contacts": of(Organisation.name, Organisation.siren, Contact.email, join=Organisation,
                           where=col(Organisation.name).in_(select(Pilot.name))),
            "notices": of(Notice.kind, Notice.dedup_key, Notice.recipient_email, Notice.subject, Notice.body_text,
                          Notice.body_html, Notice.calendar, Notice.status, Notice.deliver_after, where=territory),
            "audit": of(AuditEntry.action, AuditEntry.summary, AuditEntry.at,
                        where=col(AuditEntry.entity).in_(["pilot", "training_session", "deliverable"])),
        }


def _totals(url: str) -> dict[str, Counter[str]]:
    with Session(get_engine(url)) as session:
        return {"applications": Counter(dict(session.exec(select(Application.status, func.count())
                                                          .group_by(Application.status)).all())),
                "pilots": Counter(dict(session.exec(select(Pilot.status, func.count())
                                                    .group_by(Pilot.status)).all()))}


def _tick(url: str, instant: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[TickResult, Counter[Any]]:
    _use(url, monkeypatch)
    result = run_tick_plain(instant)
    with Session(get_engine(url)) as session:
        queued = Counter((n.kind, n.dedup_key, n.recipient_email, n.subject, n.body_text, n.calendar)
                         for n in session.exec(select(Notice).where(Notice.created_at >= instant)).all())
    return result, queued


def test_a_multiplied_programme_is_the_one_the_product_builds(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = f"sqlite:///{tmp_path / 'reference.db'}"
    made = build(reference, BASE * FACTOR, step=STEP)
    small = build(db_url, BASE, step=STEP, capacity=BASE * FACTOR)
    assert small.reached == made.reached
    base_totals = _totals(db_url)
    grown = multiply(db_url, FACTOR)
    assert (grown.pilots, grown.applications) == (BASE * FACTOR, small.applications * FACTOR)

    totals = _totals(db_url)
    for what in ("applications", "pilots"):
        assert totals[what] == Counter({status: n * FACTOR for status, n in base_totals[what].items()})
    ours, theirs = _state(db_url), _state(reference)
    for what in theirs:
        assert ours[what] == theirs[what], what
    assert len(theirs["notices"]) > 40 * BASE * FACTOR // 2  # invitations, reminders, phases, milestones

    with Session(get_engine(db_url)) as session:  # a copy's signatures name its own charter's SHA-256
        ctx = load_ctx(session)
        last = session.exec(select(Pilot).order_by(col(Pilot.id).desc())).first()
        assert last is not None and last.name == "CC du Territoire 00019"
        recorded = {entry.details["charte_sha256"] for entry in session.exec(
            select(AuditEntry).where(AuditEntry.action == "charte.signee", AuditEntry.entity_id == last.id)).all()}
        assert recorded == {charter_sha256(ctx, last)}

    # At the instant the builds reached: the same work (none), then an idle tick (no stage due);
    # a week later, the same stages due and the same notices queued.
    seen = []
    for instant in (made.reached, made.reached, made.reached + timedelta(days=7)):
        (ours_tick, ours_queued), (their_tick, their_queued) = (
            _tick(db_url, instant, monkeypatch), _tick(reference, instant, monkeypatch))
        assert ours_tick.due == their_tick.due
        assert ours_tick.changes == their_tick.changes
        assert ours_queued == their_queued
        seen.append(ours_tick)
    assert not any(seen[0].changes.values()) and seen[1].due == {}
    assert seen[2].due and any(seen[2].changes.values())
    assert sum(their_queued.values()) >= BASE * FACTOR  # the busy tick queued at least one notice per pilot
    dispose_engines()


def test_a_table_without_a_rule_is_refused() -> None:
    extra = Table("future_table", MetaData(), Column("id", Integer, primary_key=True))
    with pytest.raises(Refused, match="future_table"):
        check_rules([extra])
