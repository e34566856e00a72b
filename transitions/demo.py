"""`transitions demo`: the 2015 programme replayed end to end in simulated time.

The scripted cast acts at its instants (submissions, scores, signatures, attendance, deliveries);
between them the replay jumps straight to the next instant at which something is due, and runs
the tick flow there, exactly as the daily scheduled tick would have.
"""

from __future__ import annotations

import heapq
import itertools
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from models.clock import add_paris, format_paris, parse_duration, utc
from models.documents import parse_mapping, read_text_file
from models.errors import InvalidInput, Refused, french_errors, yaml_lines
from transitions.settings import PROJECT_ROOT, configure_prefect, reset_settings

SCRIPT = PROJECT_ROOT / "demo" / "cerdd-2015.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Announcement(_Strict):
    at: datetime
    siren: str
    contact: str
    email: str


class Submission(_Strict):
    at: datetime
    file: str


class Sitting(_Strict):
    at: datetime
    juror: str
    notes: dict[str, dict[str, int]]


class Signature(_Strict):
    pilot: str
    party: str
    signatory: str
    at: datetime


class Person(_Strict):
    person: str
    organisation: str


class Cast(_Strict):
    people: list[Person]
    absent: dict[str, list[str]] = Field(default_factory=dict)


class Deliveries(_Strict):
    default_days: int
    late: dict[str, dict[str, int | None]] = Field(default_factory=dict)


class DemoScript(_Strict):
    programme: str
    start: datetime
    intents: list[Announcement] = Field(default_factory=list)
    submissions: list[Submission]
    scores: list[Sitting]
    signatures: list[Signature]
    attendance: dict[str, Cast]
    deliveries: Deliveries


@dataclass(order=True)
class Event:
    at: datetime
    order: int
    label: str = field(compare=False)
    act: Callable[[datetime], None] = field(compare=False)


def load_script(path: Path) -> DemoScript:
    text = read_text_file(path, "de démonstration")
    try:
        return DemoScript.model_validate(parse_mapping(text, path.name, "de démonstration"))
    except ValidationError as exc:
        raise InvalidInput(f"Script {path.name} refusé.", french_errors(exc, yaml_lines(text))) from None


def prepare(out: Path, replace: bool) -> None:
    """Point the database, the outbox and Prefect's home into `out`, which must be free."""
    if (out / "transitions.db").exists():
        if not replace:
            raise InvalidInput(f"Le dossier {out} contient déjà une démonstration : choisissez un autre "
                               "dossier ou ajoutez --replace.")
        for name in ("transitions.db", "transitions.db-wal", "transitions.db-shm"):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "outbox", ignore_errors=True)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"Impossible de créer le dossier {out} : {exc.strerror}.") from None
    os.environ["DATABASE_URL"] = f"sqlite:///{(out / 'transitions.db').resolve()}"
    os.environ["OUTBOX_DIR"] = str((out / "outbox").resolve())
    os.environ["NOTICE_CHANNEL"] = "file"
    if not os.environ.get("PREFECT_API_URL"):
        os.environ["PREFECT_HOME"] = str((out / ".prefect").resolve())
    reset_settings()
    configure_prefect()


Tick = Callable[[datetime], object]


def run_demo(out: Path, console: Console, *, replace: bool = False, script_path: Path = SCRIPT,
             tick: Tick | None = None) -> None:
    """Replay the script; `tick` (default: the Prefect tick flow) advances the programme at an instant."""
    script = load_script(script_path)
    prepare(out, replace)
    from models import applications, deliverables, intents, jury, pilots, training
    from models.context import install_programme, load_ctx
    from models.db import dispose_engines, migrate, session_scope
    from models.schedule import next_due
    from transitions.intake import read_application, submit_form
    from transitions.report import build_status, dashboard_markdown, print_status
    from transitions.runtime import replay_settings
    from transitions.settings import get_settings

    url = get_settings().database_url
    base = script_path.parent
    started = time.perf_counter()
    migrate(url)
    start = utc(script.start)
    with session_scope(url) as session:
        ctx, _ = install_programme(session, (base / script.programme).resolve(), start, "démo")
        definition = ctx.definition
    received = {s.file: read_application((base / s.file).resolve()) for s in script.submissions}
    sequence = itertools.count()
    queue: list[Event] = []

    def add(at: datetime, label: str, act: Callable[[datetime], None]) -> None:
        heapq.heappush(queue, Event(utc(at), next(sequence), label, act))

    def do_submit(item: Submission) -> Callable[[datetime], None]:
        def act(_: datetime) -> None:
            try:
                submit_form(url, received[item.file], utc(item.at), None)
            except Refused as exc:
                console.print(f"  [yellow]{format_paris(utc(item.at))}[/] dépôt refusé : {exc.message}",
                              highlight=False)
        return act

    def do_scores(sitting: Sitting) -> Callable[[datetime], None]:
        def act(_: datetime) -> None:
            with session_scope(url) as session:
                ctx = load_ctx(session)
                for siren, notes in sitting.notes.items():
                    application = jury.find_application(ctx, siren)
                    for criterion, score in notes.items():
                        jury.record_score(ctx, application, juror=sitting.juror, criterion=criterion,
                                          score=score, at=utc(sitting.at))
        return act

    def do_sign(item: Signature) -> Callable[[datetime], None]:
        def act(_: datetime) -> None:
            with session_scope(url) as session:
                ctx = load_ctx(session)
                pilots.sign_charter(ctx, pilots.find_pilot(ctx, item.pilot), party=item.party,
                                    signatory=item.signatory, at=utc(item.at))
        return act

    def do_announce(item: Announcement) -> Callable[[datetime], None]:
        def act(_: datetime) -> None:
            with session_scope(url) as session:
                intents.declare(load_ctx(session), siren=item.siren, contact_name=item.contact,
                                contact_email=item.email, at=utc(item.at))
        return act

    for announcement in script.intents:
        add(announcement.at, "intention", do_announce(announcement))
    for item in script.submissions:
        add(item.at, "dépôt", do_submit(item))
    for sitting in script.scores:
        add(sitting.at, "jury", do_scores(sitting))
    for signature in script.signatures:
        add(signature.at, "signature", do_sign(signature))

    scheduled: set[int] = set()

    def schedule_accompaniment() -> None:
        """Once a pilot has started, its attendance sheets and deliveries join the timeline."""
        with session_scope(url) as session:
            ctx = load_ctx(session)
            for pilot in pilots.pilots(ctx, "en_cours"):
                if pilot.id in scheduled:
                    continue
                scheduled.add(pilot.id or 0)
                application = session.get(applications.Application, pilot.application_id)
                assert application is not None
                siren = application.lead_siren
                cast = script.attendance.get(siren)
                for item in training.sessions_of(ctx, pilot) if cast else []:
                    add(item.ends_at + timedelta(hours=1), "émargement",
                        _attendance(url, pilot.id or 0, item.key, cast))  # type: ignore[arg-type]
                delays = script.deliveries.late.get(siren, {})
                for task in deliverables.tasks_of(ctx, pilot):
                    days = delays.get(task.key, script.deliveries.default_days)
                    if days is None:
                        continue
                    when = add_paris(task.due_at, parse_duration(f"P{abs(days)}D"))
                    if days < 0:
                        when = task.due_at - (when - task.due_at)
                    add(when, "livrable", _delivery(url, pilot.id or 0, task.key))

    end = add_paris(definition.accompaniment.kickoff, parse_duration(definition.accompaniment.duration))
    span = (end - start).total_seconds()
    ticks = 0
    with replay_settings(), Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f} %"),
        TimeElapsedColumn(), console=console, transient=True,
    ) as bar:
        if tick is None:
            from flows.tick import tick_flow

            def tick(instant: datetime) -> object:
                return tick_flow(as_of=instant)

        job = bar.add_task("Rejeu 2015", total=span)
        current = start
        while True:
            with session_scope(url) as session:
                due = next_due(session, current)
            upcoming = queue[0].at if queue else None
            if due is None and upcoming is None:
                break
            instant = min(x for x in (due, upcoming) if x is not None)
            while queue and queue[0].at == instant:
                event = heapq.heappop(queue)
                event.act(event.at)
            tick(instant)
            ticks += 1
            schedule_accompaniment()
            current = instant
            bar.update(job, completed=min(span, (instant - start).total_seconds()),
                       description=f"Rejeu 2015 — {format_paris(instant, with_time=False)}")
    elapsed = time.perf_counter() - started
    with session_scope(url) as session:
        status = build_status(session, current, None)
    dispose_engines()
    (out / "bilan.md").write_text(dashboard_markdown(status), encoding="utf-8")
    console.rule("Bilan de la démonstration")
    print_status(console, status)
    eml = len(list((out / "outbox").glob("*.eml")))
    console.print(f"\n{ticks} ticks rejoués en {elapsed:.1f} s. Base : {out / 'transitions.db'} ; "
                  f"avis : {eml} fichiers .eml dans {out / 'outbox'} ; bilan : {out / 'bilan.md'}.", highlight=False)


def _attendance(url: str, pilot_id: int, key: str, cast: Cast) -> Callable[[datetime], None]:
    def act(at: datetime) -> None:
        from models import training
        from models.context import load_ctx
        from models.db import session_scope
        from models.tables import Pilot

        with session_scope(url) as session:
            ctx = load_ctx(session)
            pilot = session.get(Pilot, pilot_id)
            assert pilot is not None
            item = training.find_session(ctx, pilot, key)
            absent = set(cast.absent.get(key, []))
            for person in cast.people:
                training.record_attendance(ctx, item, person=person.person, organisation=person.organisation,
                                           present=person.person not in absent, at=at)
    return act


def _delivery(url: str, pilot_id: int, key: str) -> Callable[[datetime], None]:
    def act(at: datetime) -> None:
        from models import deliverables
        from models.context import load_ctx
        from models.db import session_scope
        from models.tables import Pilot

        with session_scope(url) as session:
            ctx = load_ctx(session)
            pilot = session.get(Pilot, pilot_id)
            assert pilot is not None
            task = deliverables.find_task(ctx, pilot, key)
            deliverables.deliver(ctx, task, at=at, by="prestataire")
    return act

