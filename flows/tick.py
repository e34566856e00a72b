"""The tick: for an instant, run every stage that has something due, then deliver the outbox.
Stages with nothing due (`models.schedule.due_stages`: one indexed query on the stored planned
instants while no fact changed) are not run at all, so an idle tick costs the question « what is
due? » and one delivery task; a tick that ran something re-plans and stores the programme's
instants when it is recorded (`finish_tick`).

Called with an explicit `as_of` it drives the programme in simulated time (the replay, the CLI).
Run from its deployment it acts for the instant it was scheduled for, only on live programmes,
and then puts the programme's next instants on Prefect's calendar as scheduled runs named for
what they do, so the UI's upcoming runs read as the programme's agenda. Running it twice for the
same instant changes nothing and sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger

from config.settings import get_settings
from flows.common import (
    dashboard_task,
    database_task,
    deliver_task,
    deployment_run,
    instant_or_now,
    run_name,
    stage_task,
)
from flows.plain import TickResult, finish_tick, plan_tick
from models.clock import format_paris
from models.db import session_scope
from models.schedule import STAGES, agenda

TICK_DEPLOYMENT = "tick/tick"
AGENDA_LENGTH = 10
"""How many of the programme's next instants are put on Prefect's calendar after each run."""


@database_task(name="agenda")
def schedule_agenda_task(after: datetime) -> int:
    """Create one scheduled run of the tick deployment per coming instant of the live programmes
    (idempotent: one run per instant, whatever the number of ticks that ask)."""
    from prefect.deployments import run_deployment

    with session_scope(get_settings().database_url) as session:
        coming = agenda(session, after, limit=AGENDA_LENGTH)
    by_instant: dict[datetime, list[str]] = {}
    for due in coming:
        by_instant.setdefault(due.at, []).append(f"{due.what} ({due.programme})")
    for at, names in by_instant.items():
        run_deployment(TICK_DEPLOYMENT, scheduled_time=at, timeout=0, as_subflow=False,
                       idempotency_key=f"tick:{at.isoformat()}",
                       flow_run_name=f"{' ; '.join(names)} — {format_paris(at)}")
    return len(by_instant)


@database_task(name="sessions-terminees")
def ended_sessions_task(until: datetime, programmes: list[str]) -> int:
    """Announce the sessions of live programmes that ended since their last tick (events that start
    the wait of the `rappel-presences` trigger); call it before the tick is recorded."""
    from flows.events import publish_ended_sessions
    from flows.plain import sessions_ended

    return publish_ended_sessions(sessions_ended(until, programmes))


@database_task(name="plan")
def plan_task(instant: datetime, programme: str | None, *, scheduled: bool) -> TickResult:
    """What the tick at `instant` advances and which stages are due (`flows.plain.plan_tick`); an
    idle tick is recorded here."""
    return plan_tick(instant, programme, live_only=scheduled, record_idle=not scheduled)


@database_task(name="fin-du-tick")
def finish_task(result: TickResult, instant: datetime) -> None:
    """Record the tick's instant and re-plan what a stage changed (`flows.plain.finish_tick`)."""
    finish_tick(result, instant)


@flow(name="tick", flow_run_name=run_name,
      description="Fait avancer les programmes jusqu'à l'instant donné et envoie les avis dus.")
def tick_flow(as_of: datetime | None = None, programme: str | None = None) -> TickResult:
    """Advance the programmes to `as_of` (default: the scheduled instant, or now) and deliver what is due.

    A tick that changed something publishes the dashboard (`dashboard_task`: artifacts, HTML
    report). The replay (`transitions demo`) does not run this flow: it is one flow run of its own
    (`flows/replay.py`), one task per tick, and publishes its final state once."""
    scheduled = as_of is None and deployment_run()  # an explicit instant never asks the API
    instant = instant_or_now(as_of)
    logger = get_run_logger()
    # A scheduled run announces the sessions ended since the last tick before recording it: it
    # keeps the three steps; an explicit instant records an idle tick with its plan.
    result = plan_task(instant, programme, scheduled=scheduled)
    for slug, last in result.held_back:
        logger.warning("programme %s : dernier tick le %s, plus de 3 jours de retard ; rien n'est envoyé "
                       "en rafale : lancez « transitions rattrapage --programme %s » pour rattraper.",
                       slug, format_paris(last), slug)
    for each in STAGES:  # only the stages with something due run, each as a task
        due = result.stage_programmes(each.name)
        result.changes[each.name] = stage_task(each.name, instant, programme, due) if due else 0
    if not result.recorded:  # an idle tick, already recorded: no notice was waiting to leave
        result.delivery = deliver_task(instant)
        if scheduled:
            ended_sessions_task(instant, result.programmes)
        finish_task(result, instant)
    if result.changed or result.delivery.sent:
        dashboard_task(instant)
    if scheduled:
        schedule_agenda_task(instant)
    done = ", ".join(f"{name} ({count})" for name, count in result.changed.items()) or "rien à faire"
    logger.info("tick du %s : %s ; %d avis envoyé(s)", format_paris(instant), done, result.delivery.sent)
    for line in result.delivery.warnings():  # a channel down, notices set aside: said, not raised
        logger.warning("%s", line)
    return result

