"""Prefect tasks shared by the flows: run one domain stage, deliver the outbox, publish the dashboard."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from prefect import task
from prefect.states import State

from config.settings import get_settings
from flows.plain import deliver_now, run_one_stage
from models.clock import utc
from models.db import session_scope
from models.failures import transient
from models.stages import StageName
from notifications.deliver import DeliveryReport

if TYPE_CHECKING:
    from reports.dashboard import TeamPages


def run_name() -> str:
    """Name a flow run after its instant, in Paris time, so the Prefect UI reads as a calendar."""
    from prefect.runtime import flow_run

    from models.clock import InstantError, paris, parse_instant

    current = flow_run.name
    if current and " — " in current:  # a run the agenda named for what it does keeps its name
        return str(current)
    as_of = flow_run.parameters.get("as_of")
    try:  # parameters of a deployment run arrive as ISO text
        when = parse_instant(as_of) if isinstance(as_of, str) else instant_or_now(as_of)
    except InstantError:
        return f"{flow_run.flow_name} {as_of}"
    return f"{flow_run.flow_name} {paris(when):%Y-%m-%d %H:%M}"


def instant_or_now(as_of: datetime | None) -> datetime:
    """The flow's instant in UTC: given (naive means Paris time); else, for a deployment run, the
    instant it was scheduled for (a late run acts for its own instant, so catch-up happens in
    order); else the current time."""
    if as_of is not None:
        return utc(as_of)
    scheduled = scheduled_instant()
    return scheduled if scheduled is not None else datetime.now(UTC)


def deployment_run() -> bool:
    """Whether this flow run was created from a deployment (schedule, trigger, UI) rather than
    called directly (CLI, replay, tests)."""
    from prefect.runtime import deployment

    return deployment.id is not None


def scheduled_instant() -> datetime | None:
    """The scheduled start of this deployment run, in UTC (None outside a deployment run)."""
    if not deployment_run():
        return None
    from prefect.runtime import flow_run

    when = flow_run.scheduled_start_time
    return utc(datetime.fromisoformat(str(when))) if when is not None else None


DATABASE_RETRY_DELAYS: list[float] = [2, 5, 10, 20, 30, 30, 30, 30]
"""Seconds before each new try of a flow's database work (157 s in all: a tick or a triggered run
during a database outage of two minutes succeeds once it is back). Prefect reads this very list
when a try fails: tests shorten it in place."""


def database_hiccup(task: object, task_run: object, state: State) -> bool:
    """Retry only when the database dropped out (`models.failures.transient`: stopped, restarting,
    cut off, busy); a bug, a refusal or a full disk would fail again."""
    try:
        state.result()
    except Exception as exc:
        return transient(exc)
    return False


def database_task(**options: Any) -> Any:
    """`@task` for a flow's database work, every such task with the same retries (one home): a new
    try after each of `DATABASE_RETRY_DELAYS` while the failure is the database's. The task must be
    safe to run again: its transaction was rolled back, and the domain's work is idempotent."""
    return task(retries=len(DATABASE_RETRY_DELAYS), retry_delay_seconds=DATABASE_RETRY_DELAYS,
                retry_condition_fn=database_hiccup, **options)


@database_task(name="etape", task_run_name="{stage}")
def stage_task(stage: StageName, as_of: datetime, programme: str | None = None,
               only: list[str] | None = None) -> int:
    """Run one stage of the programme in its own transaction; returns the number of changes.

    A retry is safe: the stage is idempotent and its transaction was rolled back. The facts it
    committed are then announced as Prefect events."""
    from flows.events import bookmark, publish_since

    before = bookmark()
    changes = run_one_stage(stage, as_of, programme, only=only)
    if changes:
        publish_since(before)
    return changes


def artifact_key(*parts: str) -> str:
    """A stable artifact key: lowercase letters, digits and dashes only (Prefect's rule)."""
    import unicodedata

    text = unicodedata.normalize("NFKD", "-".join(parts).lower())  # « Liévin » → « lievin », not « li-vin »
    text = "".join(c for c in text if not unicodedata.combining(c))
    return "".join(c if c.isascii() and c.isalnum() else "-" for c in text).strip("-")


@database_task(name="tableau-de-bord")
def dashboard_task(as_of: datetime) -> None:
    """Publish each programme's state to the Prefect UI: the status as Markdown, a table of its
    pilots, a progress bar per pilot (share of its 12 months), and links to the latest HTML
    progress report and bilan, written under the data directory (`rapports/rapport-<slug>.html`,
    `rapports/bilan-<slug>.md`, replaced by each publication). Keys are stable (`programme-<slug>`,
    `pilotes-<slug>`, `avancement-<slug>-<pilote>`, `rapport-<slug>`, `bilan-<slug>`): each tick
    adds a version."""
    from prefect.artifacts import (
        create_link_artifact,
        create_markdown_artifact,
        create_progress_artifact,
        create_table_artifact,
    )

    from models.context import all_ctx
    from models.pilots import pilots
    from models.read.pilot import siren_of
    from models.read.report_data import report_data
    from models.read.status import build_status, pilot_rows
    from reports.dashboard import TeamPages, dashboard_markdown, shown_pilots
    from reports.html_report import render_report

    settings = get_settings()
    with session_scope(settings.database_url) as session:
        contexts = all_ctx(session)
        states = {ctx.programme.slug: build_status(session, as_of, ctx.programme.slug) for ctx in contexts}
        tables = {slug: pilot_rows(session, as_of, slug) for slug in states}
        pages = {ctx.programme.slug: render_report(report_data(ctx, as_of), datetime.now(UTC)) for ctx in contexts}
        team = {ctx.programme.slug: TeamPages(settings.portal_base_url, {p.name: siren_of(ctx, p) for p in pilots(ctx)})
                for ctx in contexts}
    folder = settings.data_dir / "rapports"
    folder.mkdir(parents=True, exist_ok=True)
    for slug, status in states.items():
        report = folder / f"bilan-{slug}.md"
        report.write_text(dashboard_markdown(status), encoding="utf-8")
        create_markdown_artifact(markdown=dashboard_markdown(status, team[slug]), key=artifact_key("programme", slug),
                                 description=f"État du programme {slug} (liens vers l'espace de l'équipe)")
        if tables[slug]:
            create_table_artifact(table=team_rows(tables[slug], team[slug]), key=artifact_key("pilotes", slug),
                                  description=f"Territoires pilotes du programme {slug}")
        create_link_artifact(link=team[slug].url("/equipe/"), link_text="Espace de l'équipe du Cerdd",
                             key=artifact_key("equipe", slug),
                             description="Le back-office : l'agenda, ce qui attend le Cerdd, les avis retenus")
        for progress in shown_pilots(status)[0]:  # bounded: a national programme has 1,000 pilots
            create_progress_artifact(progress=float(progress.elapsed_percent),
                                     key=artifact_key("avancement", slug, progress.pilot),
                                     description=f"{progress.pilot} : part écoulée des 12 mois d'accompagnement")
        page = folder / f"rapport-{slug}.html"
        page.write_text(pages[slug], encoding="utf-8")
        create_link_artifact(link=page.resolve().as_uri(), link_text=f"Rapport d'avancement du programme {slug}",
                             key=artifact_key("rapport", slug),
                             description="Rapport HTML (entonnoir, jury, pilotes) du dernier tick qui a changé "
                                         "quelque chose")
        create_link_artifact(link=report.resolve().as_uri(), link_text=f"Dernier bilan du programme {slug}",
                             key=artifact_key("bilan", slug), description="Bilan en Markdown écrit par le dernier tick")


def team_rows(rows: list[dict[str, str]], team: TeamPages) -> list[dict[str, str]]:
    """The pilots' table rows (`models.read.status.pilot_rows`), each with the address of the
    pilot's page in the back office (« Page de l'équipe »)."""
    return [{**row, "Page de l'équipe": team.pilot(row["Territoire pilote"]) or "—"} for row in rows]


@database_task(name="envoi-des-avis")
def deliver_task(as_of: datetime) -> DeliveryReport:
    """Deliver every notice due at `as_of`; each outcome is recorded as it happens."""
    return deliver_now(as_of)
