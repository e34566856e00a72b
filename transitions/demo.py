"""`transitions demo`: the 2015 programme replayed end to end in simulated time.

The scripted cast acts at its instants (submissions, scores, signatures, attendance, deliveries);
between them the replay jumps straight to the next instant at which something is due, and ticks
there, doing what the scheduled tick would have. Through Prefect the whole replay is one flow run
(« rejeu », `flows/replay.py`) with one task per tick, named after its instant.
"""

from __future__ import annotations

import mailbox
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from config.prefect_env import use_demo_folder
from config.private_files import private_umask, secure_start
from config.settings import get_settings
from models.clock import add_paris, format_paris, parse_duration, utc
from models.errors import InvalidInput
from models.stages import StageName
from models.wording import os_reason

if TYPE_CHECKING:
    from rich.progress import TaskID

    from flows.plain import TickResult
    from transitions.demo_script import Timeline


def prepare(out: Path, replace: bool) -> None:
    """Point the database, the outbox and Prefect's home into `out`, which must be free."""
    if (out / "transitions.db").exists():
        if not replace:
            raise InvalidInput(f"Le dossier {out} contient déjà une démonstration : choisissez un autre "
                               "dossier ou ajoutez --replace.")
        for name in ("transitions.db", "transitions.db-wal", "transitions.db-shm"):
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "outbox", ignore_errors=True)
        shutil.rmtree(out / MAILDIR, ignore_errors=True)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(f"Impossible de créer le dossier {out} : {os_reason(exc)}.") from None
    use_demo_folder(out)


Tick = Callable[[datetime], "TickResult"]
MAILDIR = "courriels"
"""The demo's Maildir, under its folder: the call's mailbox without a server (`MAILDIR` in its `.env`)."""

MILESTONES = (StageName.LAUNCH_CALL, StageName.CLOSE_CALL, StageName.SELECT_PILOTS, StageName.KICKOFF,
              StageName.CLOSING)
"""Stages worth a line in the replay's log, as they happen."""


class _Cast:
    """The scripted cast as the replay sees it (`flows.plain.ReplayScript`): the timeline's actions,
    and after each tick a line per milestone stage that happened, the pilots just started followed,
    the progress bar moved. Slots, no `__dict__`: Prefect stores this flow parameter as its
    placeholder `<_Cast>` instead of walking the timeline to serialise it."""

    __slots__ = ("bar", "console", "job", "shown", "span", "start", "timeline", "until")

    def __init__(self, timeline: Timeline, console: Console, bar: Progress, job: TaskID, start: datetime,
                 span: float, until: datetime | None = None) -> None:
        self.timeline, self.console, self.bar, self.job, self.start, self.span = (
            timeline, console, bar, job, start, span)
        self.until = until  # the replay stops there (`flows.plain.replay_ticks`)
        self.shown = ""

    def next_at(self) -> datetime | None:
        return self.timeline.next_at()

    def play(self, instant: datetime) -> None:
        self.timeline.play(instant)

    def ticked(self, instant: datetime, result: TickResult) -> None:
        from models.stages import LABELS

        for stage in MILESTONES:
            if result.changes.get(stage):
                self.console.print(f"  {format_paris(instant)} : {LABELS[stage]}.", highlight=False)
        self.timeline.follow_pilots()
        # Redrawn only when the day shown changes, and only on a terminal (no refresh thread: it
        # cost CPU ten times a second for the whole replay).
        description = f"Rejeu 2015 — {format_paris(instant, with_time=False)}"
        if description != self.shown:
            self.shown = description
            self.bar.update(self.job, completed=min(self.span, (instant - self.start).total_seconds()),
                            description=description, refresh=self.console.is_terminal)


def run_demo(out: Path, console: Console, *, replace: bool = False, script_path: Path | None = None,
             tick: Tick | None = None, until: datetime | None = None, secret: str | None = None) -> None:
    """Replay the script (default: the embedded 2015 one). By default the replay is one Prefect flow
    run (`flows.replay.replay_flow`, « rejeu »: one task per tick, then the dashboard); with
    `tick` (e.g. `flows.plain.run_tick_plain`), the same loop calls it at each instant, without
    Prefect, and publishes nothing. `until` stops the replay at that instant (people still have
    things to do on the portal). The portal's secret (`secret`, else a new random one) and address
    are set before the replay, so its notices carry links to the portal started from `out`."""
    private_umask()  # its folder, database, outbox and Prefect home for their owner only
    prepare(out, replace)  # first: the demo's own settings replace the environment's
    for line in secure_start(get_settings()):  # a folder reused from before (--replace) is tightened
        console.print(f"Attention : {line}", highlight=False, markup=False)
    secret = secret or _new_secret()
    with portal_settings(out, secret):  # before the replay: its notices carry working links
        _replay(out, console, script_path, tick, until, secret)


def _replay(out: Path, console: Console, script_path: Path | None, tick: Tick | None, until: datetime | None,
            secret: str) -> None:
    from transitions.demo_script import load_script
    from transitions.programmes import load_programme

    script_path = script_path or get_settings().demo_script
    script = load_script(script_path)
    bundle = load_programme((script_path.parent / script.programme).resolve())
    for line in bundle.warnings:  # words of earlier versions in the script's programme file
        console.print(f"Attention : {line}", highlight=False, markup=False)
    from flows.plain import replay_ticks
    from models.context import install_programme, load_ctx
    from models.db import dispose_engines, migrate, session_scope
    from models.tables import ProgrammeMode
    from transitions.demo_script import Timeline
    from transitions.html_export import write_report
    from transitions.report import build_status, dashboard_markdown, print_status
    from transitions.runtime import replay_settings

    url = get_settings().database_url
    started = time.perf_counter()
    migrate(url)
    start = utc(script.start)
    with session_scope(url) as session:
        ctx, _ = install_programme(session, bundle, start, "démo", mode=ProgrammeMode.REPLAY)
        accompaniment = ctx.definition.accompaniment
    mailbox.Maildir(out / MAILDIR, create=True)  # the call's mailbox exists from the start, mail or not
    timeline = Timeline(url, script, script_path.parent, console, out / MAILDIR)
    span = (add_paris(accompaniment.kickoff, parse_duration(accompaniment.duration)) - start).total_seconds()
    with ExitStack() as stack, replay_settings(), Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f} %"),
        TimeElapsedColumn(), console=console, transient=True, auto_refresh=False,
    ) as bar:
        cast = _Cast(timeline, console, bar, bar.add_task("Rejeu 2015", total=span), start, span, until)
        if tick is None:
            from prefect.context import SyncClientContext

            from flows.replay import replay_flow

            # One API client for the flow run and its task runs (a new connection, TLS context
            # and version check otherwise).
            stack.enter_context(SyncClientContext.get_or_create())
            replayed = replay_flow(cast, start)  # one flow run, one task per tick, the dashboard once
        else:
            replayed = replay_ticks(cast, start, tick)
    current, ticks = replayed.last, replayed.ticks
    elapsed = time.perf_counter() - started
    with session_scope(url) as session:
        status = build_status(session, current, None)
        write_report(load_ctx(session), current, out / "rapport.html")
    dispose_engines()
    (out / "bilan.md").write_text(dashboard_markdown(status), encoding="utf-8")
    console.rule("Bilan de la démonstration")
    print_status(console, status)
    eml = len(list((out / "outbox").glob("*.eml")))
    console.print(f"\n{ticks} ticks rejoués en {elapsed:.1f} s. Base : {out / 'transitions.db'} ; "
                  f"avis : {eml} fichiers .eml dans {out / 'outbox'} ; bilan : {out / 'bilan.md'} ; "
                  f"rapport : {out / 'rapport.html'}.", highlight=False)
    if until is not None:
        console.print(f"Rejeu arrêté au {format_paris(current)} (--until) : les territoires, le prestataire et les "
                      "jurés ont encore à faire sur le portail.", highlight=False)
    portal_links(out, url, console, secret)


DEMO_PORTAL = "http://127.0.0.1:8000"


def _new_secret() -> str:
    import secrets

    return secrets.token_urlsafe(48)


@contextmanager
def portal_settings(out: Path, secret: str) -> Iterator[None]:
    """The demo's portal settings, written in its folder's `.env` (read when the portal is started
    from there, owner-only) and set in this process's environment while the replay runs, so that
    its notices carry links signed with them; the environment is restored afterwards."""
    from config.settings import reset_settings

    url = get_settings().database_url
    write_private(out / ".env", f"DATABASE_URL={url}\nDATA_DIR={out.resolve()}\nPORTAL_SECRET={secret}\n"
                                f"PORTAL_BASE_URL={DEMO_PORTAL}\nMAILDIR={(out / MAILDIR).resolve()}\n")
    before = {key: os.environ.get(key) for key in ("PORTAL_SECRET", "PORTAL_BASE_URL")}
    os.environ.update({"PORTAL_SECRET": secret, "PORTAL_BASE_URL": DEMO_PORTAL})
    reset_settings()
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_settings()


def write_private(path: Path, text: str) -> None:
    """Write `text` (UTF-8) to `path` readable and writable by its owner only (0600), from its
    creation: never readable by others, even for an instant, even when the file existed."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)


def portal_links(out: Path, url: str, console: Console, secret: str) -> list[tuple[str, str]]:
    """One personal link per party (territory, Cerdd, consultancy, juror) on the demo's database,
    signed with a demo-only secret kept in the demo's folder (`.env`, read when the portal is
    started from there), and the command that opens the portal. Links are issued at the real
    time, so they are valid now (the replay's own notices were issued in 2015)."""
    import sys
    from datetime import UTC

    from models import links
    from models.context import load_ctx
    from models.db import dispose_engines, session_scope
    from models.pilots import pilots
    from models.recipients import all_parties, consultancy_contacts
    from models.tables import Application, CharterParty, PilotStatus

    env_file = out / ".env"
    now = datetime.now(UTC)
    days = get_settings().portal_link_days
    found: list[tuple[str, str]] = []
    with session_scope(url) as session:
        ctx = load_ctx(session)
        chosen = [p for p in pilots(ctx) if p.status != PilotStatus.WITHDRAWN][:1]
        bearers: list[tuple[str, links.Bearer]] = []
        if chosen:
            application = session.get(Application, chosen[0].application_id)
            assert application is not None
            siren = application.lead_siren
            parties = all_parties(ctx, chosen[0])
            bearers += [(f"{word} ({chosen[0].name}, {person.name})",
                         links.pilot_bearer(ctx, siren, party, person.email))
                        for party, word in ((CharterParty.TERRITORY, "territoire"), (CharterParty.ORGANISER, "Cerdd"))
                        for person in parties[party][:1]]
        bearers += [(f"prestataire ({person.name}, tous les pilotes)", links.consultant_bearer(ctx, person.email))
                    for person in consultancy_contacts(ctx)[:1]]
        member = ctx.definition.jury.members[0]
        bearers.append((f"juré ({member.juror})", links.juror_bearer(ctx, member.email)))
        for label, bearer in bearers:
            # The version each person's notices carry (nothing revoked), valid from now.
            token = links.current_link(ctx, bearer, secret=secret, at=ctx.present(now), days=days, valid_from=now)
            found.append((label, DEMO_PORTAL + links.home_path(bearer, token)))
    dispose_engines()
    command = Path(sys.executable).with_name("transitions")
    program = str(command) if command.exists() else "transitions"
    lines = [f"  {label} : {link}" for label, link in found]
    write_private(out / "liens-portail.txt", "\n".join(lines) + "\n")  # personal links are bearer credentials
    console.print(f"\nPortail sur la base de la démonstration : cd {out.resolve()} && {program} portal\n"
                  f"(secret de démonstration dans {env_file}) ; un lien personnel par partie, valable {days} jours "
                  "(les avis .eml portent aussi chacun le lien de leur destinataire) "
                  f"(aussi dans {out / 'liens-portail.txt'}) :", highlight=False)
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
    return found
