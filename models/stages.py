"""The stages a tick runs, in order, and the registry that binds each to its concept module.

Each concept module (call, intents, jury, pilots, accompaniment, training, deliverables)
declares its stages with `@stage(StageName.X, planned=...)` beside the functions they call:
`run(ctx, as_of) -> changes` and `planned(ctx) -> instants at which run may have work`.
`models.schedule` refuses to start if a name of `StageName` has no function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from models.context import ProgrammeContext


class StageName(StrEnum):
    """Every stage, in the order a tick runs them (a later stage sees what an earlier one changed)."""

    LAUNCH_CALL = "lancement_appel"
    CALL_REMINDERS = "relances_appel"
    CLOSE_CALL = "cloture_appel"
    JURY_REMINDERS = "relances_jury"
    SELECT_PILOTS = "selection_jury"
    CHARTER_REMINDERS = "relances_charte"
    KICKOFF = "lancement_pilotes"
    PHASES = "phases_jalons"
    SESSIONS = "sessions"
    DELIVERABLES = "livrables"
    CLOSING = "cloture"
    PURGE = "purge_donnees"


LABELS: dict[StageName, str] = {
    StageName.LAUNCH_CALL: "l'appel à candidature est ouvert",
    StageName.CALL_REMINDERS: "rappels de la date limite",
    StageName.CLOSE_CALL: "l'appel est clos : recevabilité décidée, jury convoqué",
    StageName.JURY_REMINDERS: "rappels aux jurés",
    StageName.SELECT_PILOTS: "le jury a choisi les territoires pilotes",
    StageName.CHARTER_REMINDERS: "relances de signature de la charte",
    StageName.KICKOFF: "accompagnement lancé (charte signée par les trois parties)",
    StageName.PHASES: "phases et jalons",
    StageName.SESSIONS: "invitations et rappels de session",
    StageName.DELIVERABLES: "rappels de livrables",
    StageName.CLOSING: "fin d'accompagnement",
    StageName.PURGE: "données personnelles effacées (durée de conservation échue)",
}
"""What each stage does, in French, as the replay's log and the reports say it."""

AGENDA: dict[StageName, str] = {
    StageName.LAUNCH_CALL: "ouverture de l'appel",
    StageName.CALL_REMINDERS: "rappels de la date limite",
    StageName.CLOSE_CALL: "clôture de l'appel",
    StageName.JURY_REMINDERS: "rappels aux jurés",
    StageName.SELECT_PILOTS: "jury",
    StageName.CHARTER_REMINDERS: "relances de la charte",
    StageName.KICKOFF: "lancement des pilotes",
    StageName.PHASES: "phases et jalons",
    StageName.SESSIONS: "sessions",
    StageName.DELIVERABLES: "livrables dus",
    StageName.CLOSING: "fin d'accompagnement",
    StageName.PURGE: "purge des données personnelles",
}
"""Short French names of what a stage does at a planned instant: the names of scheduled runs."""

StageFn = Callable[[ProgrammeContext, datetime], int]
PlannedFn = Callable[[ProgrammeContext], list[datetime]]


@dataclass(frozen=True)
class Stage:
    name: StageName
    run: StageFn
    planned: PlannedFn


REGISTRY: dict[StageName, Stage] = {}


def stage(name: StageName, *, planned: PlannedFn) -> Callable[[StageFn], StageFn]:
    """Register the decorated function as stage `name`, with the instants it plans."""

    def register(run: StageFn) -> StageFn:
        if name in REGISTRY:
            raise RuntimeError(f"stage {name} registered twice")
        REGISTRY[name] = Stage(name, run, planned)
        return run

    return register
