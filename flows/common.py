"""Prefect tasks shared by the flows: run one domain stage, deliver the outbox, publish the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime

from prefect import task
from prefect.states import State
from sqlalchemy.exc import OperationalError

from flows.plain import deliver_now, run_one_stage
from models.clock import utc
from models.db import session_scope
from models.stages import StageName
from notifications.deliver import DeliveryReport
from transitions.settings import get_settings


def run_name() -> str:
    """Name a flow run after its instant, in Paris time, so the Prefect UI reads as a calendar."""
    from prefect.runtime import flow_run

    from models.clock import InstantError, paris, parse_instant

    as_of = flow_run.parameters.get("as_of")
    try:  # parameters of a deployment run arrive as ISO text
        when = parse_instant(as_of) if isinstance(as_of, str) else instant_or_now(as_of)
    except InstantError:
        return f"{flow_run.flow_name} {as_of}"
    return f"{flow_run.flow_name} {paris(when):%Y-%m-%d %H:%M}"


def instant_or_now(as_of: datetime | None) -> datetime:
    """The flow's instant in UTC: given (naive means Paris time), or the current time."""
    return utc(as_of) if as_of is not None else datetime.now(UTC)


def _database_hiccup(task: object, task_run: object, state: State) -> bool:
    """Retry a stage only when the database dropped out; a bug or a refusal would fail again."""
    try:
        state.result()
    except OperationalError:
        return True
    except Exception:
        return False
    return False


@task(name="etape", task_run_name="{stage}", retries=2, retry_delay_seconds=[2, 10],
      retry_condition_fn=_database_hiccup)
def stage_task(stage: StageName, as_of: datetime, programme: str | None = None) -> int:
    """Run one stage of the programme in its own transaction; returns the number of changes.

    A retry is safe: the stage is idempotent and its transaction was rolled back."""
    return run_one_stage(stage, as_of, programme)


@task(name="tableau-de-bord")
def dashboard_task(as_of: datetime) -> None:
    """Publish each programme's state to the Prefect UI, as a Markdown artifact keyed by programme."""
    from prefect.artifacts import create_markdown_artifact

    from models.context import all_ctx
    from models.status import build_status
    from notifications.dashboard import dashboard_markdown

    with session_scope(get_settings().database_url) as session:
        reports = {ctx.programme.slug: dashboard_markdown(build_status(session, as_of, ctx.programme.slug))
                   for ctx in all_ctx(session)}
    for slug, markdown in reports.items():
        create_markdown_artifact(markdown=markdown, key=f"programme-{slug.replace('_', '-')}",
                                 description=f"État du programme {slug}")


@task(name="envoi-des-avis")
def deliver_task(as_of: datetime) -> DeliveryReport:
    """Deliver every notice due at `as_of`; each outcome is recorded as it happens."""
    return deliver_now(as_of)
