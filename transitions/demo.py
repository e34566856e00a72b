"""`transitions demo`: the 2015 programme replayed end to end in simulated time.

The scripted cast acts at its instants (submissions, scores, signatures, attendance, deliveries);
between them the replay jumps straight to the next instant at which something is due, and runs
the tick flow there, exactly as the daily scheduled tick would have.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from models.clock import add_paris, format_paris, parse_duration, utc
from models.errors import InvalidInput, os_reason
from transitions.settings import PROJECT_ROOT, configure_prefect, reset_settings

SCRIPT = PROJECT_ROOT / "demo" / "cerdd-2015.yaml"


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
        raise InvalidInput(f"Impossible de créer le dossier {out} : {os_reason(exc)}.") from None
    os.environ["DATABASE_URL"] = f"sqlite:///{(out / 'transitions.db').resolve()}"
    os.environ["OUTBOX_DIR"] = str((out / "outbox").resolve())
    os.environ["NOTICE_CHANNEL"] = "file"
    if not os.environ.get("PREFECT_API_URL"):
        os.environ["PREFECT_HOME"] = str((out / ".prefect").resolve())
    reset_settings()
    configure_prefect()


Tick = Callable[[datetime], object]

MILESTONES = {
    "lancement_appel": "l'appel à candidature est ouvert",
    "cloture_appel": "l'appel est clos : recevabilité décidée, jury convoqué",
    "selection_jury": "le jury a choisi les territoires pilotes",
    "lancement_pilotes": "accompagnement lancé (charte signée par les trois parties)",
    "cloture": "fin d'accompagnement",
}
"""Stages worth a line in the replay's log, as they happen."""


def run_demo(out: Path, console: Console, *, replace: bool = False, script_path: Path = SCRIPT,
             tick: Tick | None = None) -> None:
    """Replay the script; `tick` (default: the Prefect tick flow) advances the programme at an instant."""
    from transitions.demo_script import load_script

    script = load_script(script_path)
    prepare(out, replace)
    from models.context import install_programme
    from models.db import dispose_engines, migrate, session_scope
    from models.schedule import next_due
    from transitions.demo_script import Timeline
    from transitions.report import build_status, dashboard_markdown, print_status
    from transitions.runtime import replay_settings
    from transitions.settings import get_settings

    url = get_settings().database_url
    started = time.perf_counter()
    migrate(url)
    start = utc(script.start)
    with session_scope(url) as session:
        ctx, _ = install_programme(session, (script_path.parent / script.programme).resolve(), start, "démo")
        accompaniment = ctx.definition.accompaniment
    timeline = Timeline(url, script, script_path.parent, console)
    span = (add_paris(accompaniment.kickoff, parse_duration(accompaniment.duration)) - start).total_seconds()
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
            planned = [x for x in (due, timeline.next_at()) if x is not None]
            if not planned:
                break
            current = min(planned)
            timeline.play(current)
            result = tick(current)
            ticks += 1
            if isinstance(result, dict):
                for stage, label in MILESTONES.items():
                    if result.get(stage):
                        console.print(f"  {format_paris(current)} : {label}.", highlight=False)
            timeline.follow_pilots()
            bar.update(job, completed=min(span, (current - start).total_seconds()),
                       description=f"Rejeu 2015 — {format_paris(current, with_time=False)}")
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
