"""One flow per stage of the programme; each runs its stage at `as_of`, then delivers the outbox."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.common import database_task, deliver_task, instant_or_now, run_name, stage_task
from models.stages import StageName as S


def _run(stages: list[S], as_of: datetime | None, programme: str | None) -> dict[str, int]:
    instant = instant_or_now(as_of)
    changes = {str(stage): stage_task(stage, instant, programme) for stage in stages}
    deliver_task(instant)
    return changes


@flow(name="lancement-appel", flow_run_name=run_name,
      description="Ouvre l'appel à candidature à sa date ; relance les EPCI annoncés avant la date limite.")
def launch_call_flow(as_of: datetime | None = None, programme: str | None = None) -> dict[str, int]:
    """Open the call for applications at its launch date; remind announced EPCI before the deadline."""
    return _run([S.LAUNCH_CALL, S.CALL_REMINDERS], as_of, programme)


@flow(name="cloture-appel", flow_run_name=run_name,
      description="À la date limite : recevabilité de chaque candidature, bilan, convocation du jury.")
def close_call_flow(as_of: datetime | None = None, programme: str | None = None) -> dict[str, int]:
    """At the deadline: admissibility of every application, report, jury convocation."""
    return _run([S.CLOSE_CALL], as_of, programme)


@flow(name="selection-jury", flow_run_name=run_name,
      description="Relance les jurés dont des notes manquent ; à la réunion, classe et propose les pilotes.")
def select_pilots_flow(as_of: datetime | None = None, programme: str | None = None) -> dict[str, int]:
    """Remind jurors with scores missing; at the meeting, rank the applications and select the pilots."""
    return _run([S.JURY_REMINDERS, S.SELECT_PILOTS], as_of, programme)


@flow(name="charte-et-lancement", flow_run_name=run_name,
      description="Relance les signataires de la charte ; lance les pilotes dont la charte est signée.")
def kickoff_flow(as_of: datetime | None = None, programme: str | None = None) -> dict[str, int]:
    """Remind unsigned charter parties; start pilots whose charter the three parties signed."""
    return _run([S.CHARTER_REMINDERS, S.KICKOFF], as_of, programme)


@flow(name="phases-et-jalons", flow_run_name=run_name,
      description="Débuts et fins de phase, jalons.")
def phases_flow(as_of: datetime | None = None, programme: str | None = None) -> dict[str, int]:
    """Phase transitions and milestone notices."""
    return _run([S.PHASES], as_of, programme)


@flow(name="sessions-formation", flow_run_name=run_name,
      description="Invitations et rappels des sessions de formation et de coproduction.")
def training_flow(as_of: datetime | None = None, programme: str | None = None) -> dict[str, int]:
    """Invitations and reminders for training and co-production sessions."""
    return _run([S.SESSIONS], as_of, programme)


@flow(name="livrables-prestataire", flow_run_name=run_name,
      description="Rappels et retards des livrables du prestataire.")
def deliverables_flow(as_of: datetime | None = None, programme: str | None = None) -> dict[str, int]:
    """Reminders and overdue notices for the consultancy's deliverables."""
    return _run([S.DELIVERABLES], as_of, programme)


@flow(name="cloture-accompagnement", flow_run_name=run_name,
      description="Clôt chaque pilote après 12 mois, et le programme après le dernier.")
def closing_flow(as_of: datetime | None = None, programme: str | None = None) -> dict[str, int]:
    """Close each pilot after 12 months, and the programme after the last one."""
    return _run([S.CLOSING], as_of, programme)


@database_task(name="rappel-emargements")
def attendance_task(as_of: datetime, programme: str | None) -> int:
    """Remind the Cerdd's manager of sessions held a day ago or more with no attendance recorded."""
    from flows.plain import remind_attendance

    return remind_attendance(as_of, programme)


@flow(name="rappel-presences", flow_run_name=run_name,
      description="Rappelle au Cerdd les émargements non saisis un jour après la fin d'une session.")
def attendance_flow(as_of: datetime | None = None, programme: str | None = None) -> dict[str, int]:
    """Remind the Cerdd's manager of every session that ended a day ago or more without any attendance
    recorded (once per session), then deliver. Triggered a day after a session ends with no
    attendance event (prefect.yaml, proactive trigger); idempotent, so running it by hand is safe."""
    instant = instant_or_now(as_of)
    reminded = attendance_task(instant, programme)
    deliver_task(instant)
    return {"rappels": reminded}
