"""Prefect as the back office's monitor (issue 23, item 4): whether the deployments `transitions
serve` (or `prefect deploy --all`) creates exist, whether a process serves them, when the last
tick run started, how it ended and when the next one is planned, read from Prefect's API with its
client (`prefect.client`), for the team's home page.

Bounded: without a Prefect API named (`PREFECT_API_URL`, or a server `transitions serve` announced
on this machine: `config.prefect_env.running_server`) nothing is asked and no temporary server is
started; otherwise each request waits at most `TIMEOUT` seconds and is not retried, the health
check first (a server that does not answer costs one timeout). Every failure is a French sentence
in `Engine.problem`, never an exception: the home page never fails because Prefect is away."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TIMEOUT = 2.0
"""Seconds each request to Prefect's API may take (connect, read, write, pool)."""
TICK_FLOW = "tick"
EXPECTED = ("tick", "envoi-avis", "charte-et-lancement", "decision-jury", "rappel-presences", "lancement-appel",
            "cloture-appel", "selection-jury", "phases-et-jalons", "sessions-formation", "livrables-prestataire",
            "cloture-accompagnement", "ancre-journal")
"""The deployments `flows.deployments.deployments(mailbox=False)` declares, by name (and prefect.yaml);
the call's mailbox adds `releve-candidatures` when one is configured (`MAILBOX_DEPLOYMENT`)."""
MAILBOX_DEPLOYMENT = "releve-candidatures"
NO_API = ("Aucun serveur Prefect n'est configuré (PREFECT_API_URL) ni lancé sur cette machine "
          "(« transitions serve ») : l'état des déploiements et des ticks n'est pas connu.")
STATE_LABELS = {
    "COMPLETED": "terminé", "FAILED": "en échec", "CRASHED": "interrompu (le processus s'est arrêté)",
    "RUNNING": "en cours", "SCHEDULED": "planifié", "PENDING": "sur le point de démarrer", "CANCELLED": "annulé",
    "CANCELLING": "en cours d'annulation", "PAUSED": "en pause",
}
NAME_LABELS = {"Late": "en retard", "Suspended": "suspendu", "AwaitingRetry": "en attente d'une reprise",
               "Retrying": "reprise en cours", "TimedOut": "arrêté (délai dépassé)"}
"""Prefect's state types and the names some states carry, in French."""
log = logging.getLogger("transitions.portail")


@dataclass(frozen=True)
class DeploymentState:
    """One expected deployment as Prefect knows it: present, its schedules paused, and whether a
    process (`transitions serve`, a worker) polled for it lately (`ready`)."""

    name: str
    exists: bool
    paused: bool = False
    ready: bool = False


@dataclass(frozen=True)
class TickRun:
    """A run of the tick flow: its name (the instant or what it does), its state in French, whether
    it ended badly (failed, crashed), when it started and ended (UTC) and the state's message."""

    name: str
    state: str
    failed: bool
    started: datetime | None
    ended: datetime | None
    message: str = ""


@dataclass(frozen=True)
class Engine:
    """What Prefect's API said (values only). `problem` is empty when it answered."""

    api: str
    """The API's address, credentials removed (empty: none named)."""
    problem: str = ""
    deployments: tuple[DeploymentState, ...] = ()
    last_tick: TickRun | None = None
    next_tick: datetime | None = None
    """The expected start of the next scheduled tick run (UTC), if any."""

    @property
    def missing(self) -> tuple[str, ...]:
        """The expected deployments Prefect does not have."""
        return tuple(d.name for d in self.deployments if not d.exists)


def configured_api() -> str | None:
    """The Prefect API the shell would join: PREFECT_API_URL, else a server `transitions serve`
    announced on this machine and answering; None otherwise."""
    from config.prefect_env import running_server

    return os.environ.get("PREFECT_API_URL") or running_server()


def expected_deployments(mailbox: bool) -> tuple[str, ...]:
    return EXPECTED + ((MAILBOX_DEPLOYMENT,) if mailbox else ())


def engine_status(api: str | None = None, *, timeout: float = TIMEOUT, mailbox: bool | None = None) -> Engine:
    """Ask Prefect's API at `api` (default: `configured_api()`) about the expected deployments (the
    mailbox's when `mailbox`, default: when the settings name one) and the tick's runs. Never
    raises: a missing or silent API is a French `problem`."""
    from models.addresses import redact_url

    api = api if api is not None else configured_api()
    if not api:
        return Engine("", NO_API)
    shown = redact_url(api)
    if mailbox is None:
        from config.settings import get_settings

        mailbox = get_settings().mailbox_configured
    try:
        return _ask(api, shown, timeout, expected_deployments(mailbox))
    except Exception as exc:  # whatever the server or the network did, the page says it in French
        log.warning("l'API Prefect %s n'a pas répondu comme prévu : %s", shown, type(exc).__name__)
        return Engine(shown, f"Le serveur Prefect ({shown}) n'a pas répondu comme prévu ({type(exc).__name__}) : "
                             "réessayez dans un instant, ou voyez son interface.")


def _ask(api: str, shown: str, timeout: float, expected: tuple[str, ...]) -> Engine:
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, PREFECT_CLIENT_MAX_RETRIES, temporary_settings

    settings: dict[Any, Any] = {PREFECT_API_URL: api, PREFECT_CLIENT_MAX_RETRIES: 0}
    with temporary_settings(updates=settings), \
            get_client(sync_client=True, httpx_settings={"timeout": httpx.Timeout(timeout)}) as client:
        failure = client.api_healthcheck()
        if failure is not None:
            return Engine(shown, f"Le serveur Prefect ({shown}) ne répond pas dans les {timeout:g} secondes "
                                 "(arrêté, ou injoignable d'ici) : l'état des déploiements et des ticks n'est pas "
                                 "connu. Sur le serveur : « transitions serve ».")
        return Engine(shown, "", _deployments(client, expected), _last_tick(client), _next_tick(client))


def _deployments(client: Any, expected: tuple[str, ...]) -> tuple[DeploymentState, ...]:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName
    from prefect.client.schemas.objects import DeploymentStatus

    found = {d.name: d for d in client.read_deployments(
        deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=list(expected))), limit=200)}
    return tuple(DeploymentState(name, True, bool(found[name].paused), found[name].status == DeploymentStatus.READY)
                 if name in found else DeploymentState(name, False) for name in expected)


def _tick_runs(client: Any, sort: Any, **state: Any) -> list[Any]:
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter

    return list(client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[TICK_FLOW])),
                                      flow_run_filter=FlowRunFilter(**state), sort=sort, limit=1))


def _last_tick(client: Any) -> TickRun | None:
    from prefect.client.schemas.filters import FlowRunFilterStartTime
    from prefect.client.schemas.sorting import FlowRunSort

    runs = _tick_runs(client, FlowRunSort.START_TIME_DESC, start_time=FlowRunFilterStartTime(is_null_=False))
    if not runs:
        return None
    run, state = runs[0], runs[0].state
    kind = state.type.value if state is not None else ""
    word = NAME_LABELS.get(state.name, "") if state is not None else ""
    return TickRun(run.name, word or STATE_LABELS.get(kind, kind.lower() or "inconnu"), kind in ("FAILED", "CRASHED"),
                   _utc(run.start_time), _utc(run.end_time), (state.message or "")[:300] if state is not None else "")


def _next_tick(client: Any) -> datetime | None:
    from prefect.client.schemas.filters import FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    runs = _tick_runs(client, FlowRunSort.EXPECTED_START_TIME_ASC,
                      state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])))
    return _utc(runs[0].expected_start_time) if runs else None


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.astimezone(UTC)
