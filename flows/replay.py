"""The replay (« rejeu »): a programme driven through simulated time in ONE Prefect flow run, its
ticks run in the flow's body, one per instant, then one table artifact listing every tick
(`ticks-rejeu`: instant in Paris time, stages that acted, notices sent) and the dashboard once.

The live tick (`flows/tick.py`: deployments, `transitions tick`) runs each due stage as its own
task. The replay's ~150 instants were first ~150 flow runs and ~1,400 task runs, then one task run
per tick: still about a fifth of the replay's CPU spent by Prefect's engine and server recording
runs that hold no retry, cache or concurrency of their own. Each tick does exactly what the plain
tick does (`flows.plain.run_tick_plain`: plan, the due stages in order, each in its own
transaction, delivery, record the tick), so the notices and states are those of the plain replay;
the table artifact keeps every instant visible in the UI, for one API call.

The cast's actions (submissions, scores, signatures…) belong to the shell: the flow receives them
as an object implementing `flows.plain.ReplayScript` and plays them between ticks, in the flow's
own body (they are people's acts, not the programme's work).
"""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.common import dashboard_task
from flows.plain import Replayed, ReplayScript, TickResult, replay_ticks, run_tick_plain
from models.clock import paris, utc


def replay_run_name() -> str:
    """`rejeu 2015-04-01 09:00`: the replay's flow run is named after its first instant."""
    from prefect.runtime import flow_run

    start = flow_run.parameters.get("start")
    return f"rejeu {paris(start):%Y-%m-%d %H:%M}" if isinstance(start, datetime) else "rejeu"


TICKS_ARTIFACT = "ticks-rejeu"
"""Key of the replay's table artifact: one row per tick (a new version per replay)."""


def replay_tick(as_of: datetime) -> TickResult:
    """One tick of the replay at `as_of` (UTC): `run_tick_plain`, i.e. the due stages in tick
    order, each in its own transaction, then delivery and the tick recorded. The facts the stages
    committed are then announced as Prefect events, as the live tick's stage tasks do. A failing
    tick fails the flow run, its instant in the error."""
    from flows.events import bookmark, publish_since

    before = bookmark()
    try:
        result = run_tick_plain(as_of)
    except Exception as exc:
        exc.add_note(f"tick du rejeu à {paris(as_of):%Y-%m-%d %H:%M} (heure de Paris)")
        raise
    if result.changed:
        publish_since(before)
    return result


def tick_row(as_of: datetime, result: TickResult) -> dict[str, object]:
    """The artifact's row for one tick, in French."""
    return {"instant": f"{paris(as_of):%Y-%m-%d %H:%M}",
            "étapes ayant agi": ", ".join(f"{stage} ({count})" for stage, count in result.changed.items()) or "—",
            "avis envoyés": result.delivery.sent}


@flow(name="rejeu", flow_run_name=replay_run_name, validate_parameters=False,
      description="Rejoue un programme en temps simulé : un tick par instant dû ou action du script, "
                  "puis publie la liste des ticks et l'état final.")
def replay_flow(script: ReplayScript, start: datetime) -> Replayed:
    """Replay from `start` until neither the programmes nor `script` have anything planned: at each
    instant (the earlier of `models.schedule.next_due` and `script.next_at()`), play the script's
    actions, run the tick (`replay_tick`) and tell the script (`script.ticked`); then publish the
    list of ticks as one table artifact (`ticks-rejeu`) and the final state once
    (`dashboard_task`). Returns how many ticks ran and the last instant.

    `script` is not JSON: parameters are not validated (`validate_parameters=False`). Prefect
    stores what FastAPI's `jsonable_encoder` makes of each parameter (an object's `__dict__`,
    walked recursively) or, when that fails, the placeholder `<TypeName>`: give an object without
    `__dict__` (the demo's has `__slots__`, stored as `<_Cast>`). A failing tick fails the flow
    (raised to the caller)."""
    from prefect.artifacts import create_table_artifact

    rows: list[dict[str, object]] = []

    def tick(as_of: datetime) -> TickResult:
        result = replay_tick(as_of)
        rows.append(tick_row(as_of, result))
        return result

    replayed = replay_ticks(script, utc(start), tick)
    create_table_artifact(rows, key=TICKS_ARTIFACT,
                          description=f"Rejeu : {len(rows)} ticks, un par instant (heure de Paris), les étapes "
                                      "qui ont agi (nombre de changements) et les avis envoyés.")
    dashboard_task(replayed.last)
    return replayed
