"""The 2015 programme replayed end to end (`transitions demo`), on a real Prefect test server."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import select

from config.settings import reset_settings
from models.clock import WorkingCalendar, paris
from models.db import dispose_engines, session_scope
from models.tables import Application, AuditEntry, Notice, Pilot, Programme
from notifications import render
from tests.conftest import at
from tests.guards import HANG_GUARD
from transitions.demo import run_demo
from transitions.runtime import run_tick

pytestmark = pytest.mark.prefect

REMINDERS = {"rappel_date_limite", "rappel_jury", "relance_charte", "invitation_session", "rappel_session",
             "rappel_livrable", "livrable_en_retard"}


SECRET = "Qh3Zr8Vw1Tn6Ky4Mb9Lc2Xp7Sd5Gf0Ja8Ue3Po1"  # pinned: both replays sign the same links
LINK_CLOCK = datetime(2026, 1, 5, 9, tzinfo=UTC)
"""The real instant the notices' links are issued at in both replays (their expiry is written in them)."""


@pytest.fixture(scope="module")
def replay(prefect_server: None, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    out = tmp_path_factory.mktemp("demo")
    mp = pytest.MonkeyPatch()
    for key in ("DATABASE_URL", "OUTBOX_DIR", "NOTICE_CHANNEL", "PREFECT_HOME"):
        mp.setenv(key, "placeholder")  # restored after the module, whatever the demo sets
    mp.setattr(render, "_utc_now", lambda: LINK_CLOCK)  # the links' real instant and secret pinned:
    console = Console(file=io.StringIO(), width=200)  # both replays write the same links
    run_demo(out, console, secret=SECRET)
    yield out, f"sqlite:///{out / 'transitions.db'}", console.file.getvalue()  # type: ignore[attr-defined]
    mp.undo()
    reset_settings()
    dispose_engines()


def test_three_pilots_reach_the_end_of_twelve_months(replay: tuple[Path, str, str]) -> None:
    _, url, summary = replay
    with session_scope(url) as session:
        programme = session.exec(select(Programme)).one()
        pilots = session.exec(select(Pilot).order_by(Pilot.rank)).all()
    assert programme.state == "termine"
    assert [(p.name, p.status) for p in pilots] == [
        ("CU d'Arras", "termine"), ("CA de Lens - Liévin", "termine"), ("CC de Flandre Intérieure", "retire"),
        ("CA Maubeuge Val de Sambre", "termine")]
    assert all(p.kickoff_at == at("2015-07-01T09:30") and p.ends_at == at("2016-07-01T09:30") for p in pilots[:2])
    assert (pilots[3].kickoff_at, pilots[3].ends_at) == (at("2015-07-10T11:00"), at("2016-07-10T11:00"))
    assert "Territoires pilotes" in summary and "Bilan du programme" in summary
    assert "place offerte à CA Maubeuge Val de Sambre" in summary


def test_refused_applications_carry_their_reason(replay: tuple[Path, str, str]) -> None:
    _, url, _ = replay
    with session_scope(url) as session:
        rows = {a.lead_name: a for a in session.exec(select(Application)).all()}
        refused = session.exec(select(AuditEntry).where(AuditEntry.action == "candidature.refusee")).all()
    assert "CC du Pays de Lumbres" not in rows
    # Lumbres mailed its annex at 12:04: refused by its arrival time when the mailbox was read at 12:15.
    assert [(r.actor, r.details["expediteur"]) for r in refused] == [("d.hochart@ccpl.example.org",
                                                                       "d.hochart@ccpl.example.org")]
    assert "arrivé le jeudi 7 mai 2015 à 12h04" in refused[0].summary and "12h00" in refused[0].summary
    assert refused[0].at == at("2015-05-07T12:15")
    assert rows["Ville de Béthune"].status == "non_recevable"
    assert "non recevable" in (rows["Ville de Béthune"].decision_reason or "")
    maubeuge = rows["CA Maubeuge Val de Sambre"]
    assert maubeuge.status == "retenue"
    assert maubeuge.decision_reason == ("Retenue après le retrait de la CC de Flandre Intérieure : note pondérée "
                                        "3,27/5, rang 4.")
    assert rows["CA de Lens - Liévin"].version == 2


def test_who_is_told_what_and_when(replay: tuple[Path, str, str]) -> None:
    out, url, _ = replay
    with session_scope(url) as session:
        notices = session.exec(select(Notice)).all()
    assert all(n.status == "envoye" for n in notices)
    # One .eml per message: a notice on its own, or a digest of a person's reminders of the day.
    digests = {n.digest_id for n in notices if n.digest_id}
    assert digests
    assert len(list((out / "outbox").glob("*.eml"))) == sum(1 for n in notices if not n.digest_id) + len(digests)
    for digest in digests:
        carried = [n for n in notices if n.digest_id == digest]
        assert len(carried) >= 2 and len({(n.recipient_email, paris(n.sent_at).date()) for n in carried}) == 1
    # Milestones come from facts: Arras reaches all five; Lens reaches « culture partagée » late
    # (its diagnostic came 8 days late) and misses « projets pilotes » (its workshop was cancelled);
    # Maubeuge misses « diffusion » (the final report never came). Each miss is told the manager once.
    reached = Counter(n.subject.split(" : ")[0] for n in notices
                      if n.kind == "jalon_atteint" and n.recipient_email == "aboutonne@cerdd.org")
    assert reached == {"CU d'Arras": 5, "CA de Lens - Liévin": 4, "CA Maubeuge Val de Sambre": 4}
    assert [n.subject for n in notices if n.kind == "jalon_atteint" and "(en retard)" in n.subject
            and n.recipient_email == "aboutonne@cerdd.org"] == [
        "CA de Lens - Liévin : jalon « Culture partagée installée » atteint (en retard)"]
    missed = sorted((n.recipient_email, n.subject, paris(n.created_at).date().isoformat())
                    for n in notices if n.kind == "jalon_en_retard")
    assert missed == [
        ("aboutonne@cerdd.org", "Jalon non atteint : « Culture partagée installée » (CA de Lens - Liévin)",
         "2015-09-01"),
        ("aboutonne@cerdd.org", "Jalon non atteint : « Projets pilotes co-élaborés » (CA de Lens - Liévin)",
         "2016-05-01"),
        ("aboutonne@cerdd.org", "Jalon non atteint : « Ressources mobilisées et résultats diffusés » "
                                "(CA Maubeuge Val de Sambre)", "2016-06-25")]
    # Flandre Intérieure never signed: reminded after the date (manager copied), the manager asked
    # to decide, the pilot withdrawn and its place offered to Maubeuge, next in the ranking.
    late = [n for n in notices if n.kind == "relance_charte" and "Retard" in n.subject]
    assert {n.recipient_email for n in late} == {
        "e.verhaeghe@ccfi.example.org", "p.vandenbussche@ccfi.example.org", "aboutonne@cerdd.org"}
    assert {paris(n.created_at).isoformat() for n in late} == {"2015-06-30T09:00:00+02:00",
                                                                "2015-07-03T09:00:00+02:00"}
    assert [(n.recipient_email, n.subject) for n in notices if n.kind == "charte_non_signee"] == [
        ("aboutonne@cerdd.org", "Décision à prendre : charte non signée — CC de Flandre Intérieure")]
    withdrawn = [n for n in notices if n.kind == "pilote_retire"]
    assert {n.recipient_email for n in withdrawn} >= {"p.vandenbussche@ccfi.example.org", "aboutonne@cerdd.org"}
    assert all(n.created_at == at("2015-07-06T10:00") for n in withdrawn)
    offered = [n for n in notices if n.kind in ("decision_retenue", "charte_a_signer") and "amvs" in n.recipient_email]
    assert {n.kind for n in offered} == {"decision_retenue", "charte_a_signer"}
    # One deliverable returned for rework, handed in again, then accepted.
    returned = [n for n in notices if n.kind == "livrable_a_reprendre"]
    assert {n.recipient_email for n in returned} == {"cheffe-de-projet@prestataire.example.org",
                                                     "aboutonne@cerdd.org"}
    assert all("Note d'opportunités" in n.subject and "CU d'Arras" in n.subject for n in returned)
    # Announced EPCI that had not submitted are reminded 5 and 2 working days before the deadline.
    deadline = sorted((n.recipient_email, paris(n.created_at).date().isoformat())
                      for n in notices if n.kind == "rappel_date_limite")
    assert deadline == [(email, day) for email in ("claire.dufour@cu-arras.example.org", "d.hochart@ccpl.example.org",
                                                   "s.lemaire@agglo-boulonnais.example.org")
                        for day in ("2015-04-29", "2015-05-05")]
    # Jurors are reminded 3 and 1 working days before the meeting while they have scores missing.
    jurors = sorted((n.recipient_email, paris(n.created_at).date().isoformat())
                    for n in notices if n.kind == "rappel_jury")
    assert jurors == [("ebertin@cerdd.org", "2015-06-01"), ("ebertin@cerdd.org", "2015-06-03"),
                      ("jury-dreal@example.org", "2015-06-01"), ("jury-region@example.org", "2015-06-01")]
    # The refused commune is told why, at the deadline.
    bethune = [n for n in notices if n.kind == "candidature_non_recevable" and "bethune" in n.recipient_email]
    assert bethune and all(n.created_at == at("2015-05-07T12:00") for n in bethune)
    assert "commune seule" in bethune[0].body_text


def test_reminders_fall_on_french_working_days_at_nine(replay: tuple[Path, str, str]) -> None:
    _, url, _ = replay
    calendar = WorkingCalendar("FR")
    with session_scope(url) as session:
        reminders = [n for n in session.exec(select(Notice)).all() if n.kind in REMINDERS]
    assert len(reminders) > 50
    for notice in reminders:
        local = paris(notice.created_at)
        assert calendar.is_working_day(local.date()), notice.dedup_key
        assert (local.hour, local.minute) == (9, 0), notice.dedup_key


def test_sessions_and_deliverables_fall_on_working_days(replay: tuple[Path, str, str]) -> None:
    from models.tables import Deliverable, TrainingSession

    _, url, _ = replay
    calendar = WorkingCalendar("FR")
    with session_scope(url) as session:
        days = [paris(t.due_at) for t in session.exec(select(Deliverable))]
        days += [paris(s.starts_at) for s in session.exec(select(TrainingSession))]
    assert len(days) == 3 * (6 + 5)  # Arras, Lens and Maubeuge; Flandre never started
    assert all(calendar.is_working_day(day.date()) for day in days)


def test_ticking_again_after_the_end_sends_nothing(replay: tuple[Path, str, str], monkeypatch) -> None:
    out, url, _ = replay
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("OUTBOX_DIR", str(out / "outbox"))
    reset_settings()
    with session_scope(url) as session:
        before = len(session.exec(select(Notice)).all())
    result = run_tick(at("2016-07-10T11:00"))
    assert result.delivery.sent == 0
    with session_scope(url) as session:
        assert len(session.exec(select(Notice)).all()) == before


def test_a_moved_and_a_cancelled_session_reach_the_invitees_as_calendar_updates(replay: tuple[Path, str, str]) -> None:
    """Arras's second training moves by six days, Lens's project workshop is cancelled: each
    invitee's .eml carries a text/calendar part with the same UID as the invitation, a higher
    SEQUENCE, and METHOD:REQUEST (update) or METHOD:CANCEL."""
    import email

    from icalendar import Calendar

    out, url, _ = replay
    by_kind: dict[str, dict[str, object]] = {}
    for path in sorted((out / "outbox").glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes())
        parts = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
        if not parts:
            continue
        payload = parts[0].get_payload(decode=True)
        assert isinstance(payload, bytes)
        event = Calendar.from_ical(payload).walk("VEVENT")[0]
        kind = str(parsed["X-Transitions-Kind"])
        by_kind.setdefault(kind, {})[f"{parsed['To']}|{event['uid']}"] = (
            parts[0].get_param("method"), int(event["sequence"]), event.decoded("dtstart"), str(event["status"]))
    invitations, updates, cancellations = (by_kind["invitation_session"], by_kind["session_modifiee"],
                                           by_kind["session_annulee"])
    assert len(updates) == 4 and len(cancellations) == 3  # every invitee of those two sessions
    for key, (method, sequence, start, _status) in updates.items():
        assert key in invitations and (method, sequence) == ("REQUEST", 1)
        assert start == at("2015-10-07T09:30") and invitations[key][2] == at("2015-10-01T09:30")  # type: ignore[index]
    for key, (method, sequence, _start, status) in cancellations.items():
        assert key in invitations and (method, sequence, status) == ("CANCEL", 1, "CANCELLED")
    # Each pilot has its own calendar: no two pilots' sessions share a slot.
    with session_scope(url) as session:
        from models.tables import TrainingSession

        slots = [(s.starts_at, s.location) for s in session.exec(select(TrainingSession))]
    assert len(slots) == len(set(slots)) == 15


AUDIT_RANDOM = ("personal_parts", "personal_sha256", "prev_hash", "entry_hash", "token")
"""Columns drawn at random (the audit chain's salted parts and hashes, a pilot change's token)."""


def _every_row(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in key order, but what the real clock writes: when an audit entry
    was written (`recorded_at`) and the audit chain's hashes and salt (they cover it, or are drawn
    at random), and the personal links the demo issues after the replay, now (`lien.emis` entries,
    `portalgrant.issued_at`)."""
    from sqlalchemy import MetaData, create_engine

    engine = create_engine(url)
    metadata = MetaData()
    metadata.reflect(engine)
    rows: dict[str, list[tuple[object, ...]]] = {}
    with engine.connect() as connection:
        for name, table in sorted(metadata.tables.items()):
            if name == "alembic_version":
                continue
            columns = [c for c in table.columns if c.name not in ("recorded_at", "issued_at", *AUDIT_RANDOM)]
            found = connection.execute(table.select().with_only_columns(*columns)
                                       .order_by(*table.primary_key.columns)).all()
            if name == "auditentry":
                at_index = [c.name for c in columns].index("at")
                found = [tuple(None if i == at_index and "lien.emis" in row else v for i, v in enumerate(row))
                         for row in found]
            rows[name] = [tuple(row) for row in found]
    engine.dispose()
    return rows


def test_the_replay_through_prefect_is_the_plain_replay_in_one_flow_run(
        replay: tuple[Path, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One `rejeu` flow run listing its ticks, one per instant in Paris time, in its table artifact
    `ticks-rejeu` (the ticks run in the flow's body: no task run each), then the dashboard's task run;
    and exactly the plain replay's database: every notice (key, recipients, dates, subject, bodies,
    status), audit entry, application, pilot, milestone, session and deliverable."""
    import asyncio
    import json
    import time

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterId,
    )

    from flows.plain import TickResult, run_tick_plain
    from flows.replay import TICKS_ARTIFACT

    _, url, summary = replay
    for key in ("DATABASE_URL", "OUTBOX_DIR", "NOTICE_CHANNEL", "PREFECT_HOME", "DATA_DIR"):
        monkeypatch.setenv(key, "placeholder")
    instants: list[datetime] = []

    def plain(instant: datetime) -> TickResult:
        instants.append(instant)
        return run_tick_plain(instant)

    monkeypatch.setattr(render, "_utc_now", lambda: LINK_CLOCK)
    plain_console = Console(file=io.StringIO(), width=200)
    run_demo(tmp_path / "plain", plain_console, tick=plain, secret=SECRET)
    dispose_engines()
    reset_settings()
    prefect_rows, plain_rows = _every_row(url), _every_row(f"sqlite:///{tmp_path / 'plain' / 'transitions.db'}")
    assert len(prefect_rows["notice"]) > 400 and len(prefect_rows["auditentry"]) > 200
    for table, rows in plain_rows.items():
        assert prefect_rows[table] == rows, table
    # The console tells the same story (milestone lines, the summary), up to the timings and paths.
    def story(text: str) -> str:
        return text.split(" ticks rejoués")[0].rsplit("\n", 1)[0]

    assert "accompagnement lancé" in story(summary)
    assert story(summary) == story(plain_console.file.getvalue())  # type: ignore[attr-defined]
    assert f"{len(instants)} ticks rejoués" in summary

    async def runs() -> tuple[list[object], list[object], list[object]]:
        async with get_client() as client:
            flow_runs = await client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["rejeu"])))
            ids = [r.id for r in flow_runs]
            task_runs = await client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
            artifacts = await client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids)))
        return flow_runs, task_runs, artifacts

    deadline = time.monotonic() + HANG_GUARD
    while True:  # the server records task runs from their events, a moment after they ran
        flow_runs, task_runs, artifacts = asyncio.run(runs())
        if task_runs and any(a.key == TICKS_ARTIFACT for a in artifacts):  # type: ignore[attr-defined]
            break
        if time.monotonic() > deadline:
            pytest.fail(f"bloqué : le serveur Prefect n'a enregistré ni le tableau de bord ni la table des ticks "
                        f"en {HANG_GUARD:.0f} s ({len(task_runs)} tâches, {len(artifacts)} artefacts)", pytrace=False)
        time.sleep(0.5)
    assert [(r.name, r.state_type.value) for r in flow_runs] == [("rejeu 2015-04-01 09:00", "COMPLETED")]
    assert task_runs and all(r.name.startswith("tableau-de-bord") for r in task_runs)  # type: ignore[attr-defined]
    [table] = [a for a in artifacts if a.key == TICKS_ARTIFACT]  # type: ignore[attr-defined]
    rows = json.loads(table.data)  # type: ignore[attr-defined]
    assert [row["instant"] for row in rows] == [f"{paris(instant):%Y-%m-%d %H:%M}" for instant in instants]
    assert len(instants) > 150 and any(row["instant"] == "2015-05-07 12:00" for row in rows)
    assert any("lancement_appel" in row["étapes ayant agi"] for row in rows)
    assert sum(row["avis envoyés"] for row in rows) > 0
