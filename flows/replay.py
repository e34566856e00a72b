"""The replay (« rejeu »): a programme driven through simulated time in ONE Prefect flow run whose
ticks are tasks, one per instant (`tick 2015-05-07 12:00`, Paris time), then the dashboard once.

The live tick (`flows/tick.py`: deployments, `transitions tick`) runs each due stage as its own
task; the replay's ~150 instants would make that ~150 flow runs and ~1,400 task runs, most of the
replay's wall time spent in Prefect's engine and server. Here each tick's task does exactly what
the plain tick does (`flows.plain.run_tick_plain`: plan, the due stages in order, each in its own
transaction, delivery, record the tick), so the notices and states are those of the plain replay.

The cast's actions (submissions, scores, signatures…) belong to the shell: the flow receives them
as an object implementing `flows.plain.ReplayScript` and plays them between ticks, in the flow's
own body (they are people's acts, not the programme's work).
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows.common import dashboard_task
from flows.plain import Replayed, ReplayScript, TickResult, replay_ticks, run_tick_plain
from models.clock import paris, utc


def tick_run_name() -> str:
    """`tick 2015-05-07 12:00`: a tick's task run is named after its instant, in Paris time."""
    from prefect.runtime import task_run

    return f"tick {paris(task_run.parameters['as_of']):%Y-%m-%d %H:%M}"


def replay_run_name() -> str:
    """`rejeu 2015-04-01 09:00`: the replay's flow run is named after its first instant."""
    from prefect.runtime import flow_run

    start = flow_run.parameters.get("start")
    return f"rejeu {paris(start):%Y-%m-%d %H:%M}" if isinstance(start, datetime) else "rejeu"


@task(name="tick", task_run_name=tick_run_name, cache_policy=NO_CACHE)
def replay_tick_task(as_of: datetime) -> TickResult:
    """One tick of the replay at `as_of` (UTC): `run_tick_plain`, i.e. the due stages in tick
    order, each in its own transaction, then delivery and the tick recorded. The facts the stages
    committed are then announced as Prefect events, as the live tick's stage tasks do.

    Not retried: a tick is idempotent, but a retry would report as unchanged the stages the first
    attempt committed (the replay's milestone lines read those changes)."""
    from flows.events import bookmark, publish_since

    before = bookmark()
    result = run_tick_plain(as_of)
    if result.changed:
        publish_since(before)
    return result


@flow(name="rejeu", flow_run_name=replay_run_name, validate_parameters=False,
      description="Rejoue un programme en temps simulé : un tick par instant dû ou action du script, "
                  "puis publie l'état final.")
def replay_flow(script: ReplayScript, start: datetime) -> Replayed:
    """Replay from `start` until neither the programmes nor `script` have anything planned: at each
    instant (the earlier of `models.schedule.next_due` and `script.next_at()`), play the script's
    actions, run the tick as one task (`replay_tick_task`) and tell the script
    (`script.ticked`); then publish the final state once (`dashboard_task`). Returns how many
    ticks ran and the last instant.

    `script` is not JSON: parameters are not validated (`validate_parameters=False`). Prefect
    stores what FastAPI's `jsonable_encoder` makes of each parameter (an object's `__dict__`,
    walked recursively) or, when that fails, the placeholder `<TypeName>`: give an object without
    `__dict__` (the demo's has `__slots__`, stored as `<_Cast>`). A failing tick fails its task
    and the flow (raised to the caller)."""
    replayed = replay_ticks(script, utc(start), replay_tick_task)
    dashboard_task(replayed.last)
    return replayed
