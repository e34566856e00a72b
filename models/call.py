"""The call for applications: its launch and its close at the deadline."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from models import applications
from models.context import ProgrammeContext
from models.notices import NoticeKind
from models.recipients import jurors, organiser_team
from models.stages import StageName, stage
from models.tables import Application, ApplicationStatus, AuditEntry, ProgrammeState


def planned_launch(ctx: ProgrammeContext) -> list[datetime]:
    """The call's launch, until it is open."""
    return [ctx.definition.call.launch] if ctx.programme.state == ProgrammeState.READY else []


def planned_close(ctx: ProgrammeContext) -> list[datetime]:
    """The call's deadline, while it is open."""
    return [ctx.definition.call.deadline] if ctx.programme.state == ProgrammeState.CALL_OPEN else []


@stage(StageName.LAUNCH_CALL, planned=planned_launch)
def launch_call(ctx: ProgrammeContext, as_of: datetime) -> int:
    """Open the call once its launch instant has come. Returns the number of changes (0 or 1)."""
    programme = ctx.programme
    if programme.state != ProgrammeState.READY or as_of < ctx.definition.call.launch:
        return 0
    programme.state = ProgrammeState.CALL_OPEN
    programme.launched_at = ctx.definition.call.launch
    ctx.session.add(programme)
    ctx.notify(NoticeKind.CALL_LAUNCHED,
               recipients=organiser_team(ctx), key=programme.slug, context={}, at=as_of)
    ctx.audit(as_of, "système", "appel.lance", "programme", programme.id,
              f"Appel à candidature « {programme.title} » ouvert.")
    return 1


@stage(StageName.CLOSE_CALL, planned=planned_close)
def close_call(ctx: ProgrammeContext, as_of: datetime) -> int:
    """At the deadline: decide admissibility, report to the Cerdd, convene the jury."""
    programme = ctx.programme
    if programme.state != ProgrammeState.CALL_OPEN or as_of < ctx.definition.call.deadline:
        return 0
    decided = applications.decide_admissibility(ctx, as_of)
    programme.state = ProgrammeState.CALL_CLOSED
    programme.call_closed_at = ctx.definition.call.deadline
    ctx.session.add(programme)
    rows = ctx.session.exec(
        select(Application).where(Application.programme_id == ctx.programme_id).order_by(col(Application.id))
    ).all()
    admissible = [a for a in rows if a.status == ApplicationStatus.ADMISSIBLE]
    refused = ctx.session.exec(
        select(AuditEntry).where(
            AuditEntry.programme_id == ctx.programme_id,
            AuditEntry.action == "candidature.refusee",
        )
    ).all()
    context = {"candidatures": rows, "recevables": admissible, "refus_guichet": refused,
               "jury": ctx.definition.jury}
    ctx.notify(NoticeKind.CALL_REPORT,
               recipients=organiser_team(ctx), key=programme.slug, context=context, at=as_of)
    ctx.notify(NoticeKind.JURY_CONVOCATION,
               recipients=jurors(ctx), key=programme.slug, context=context, at=as_of)
    ctx.audit(as_of, "système", "appel.clos", "programme", programme.id,
              f"Appel clos : {decided} candidature(s) examinée(s), {len(admissible)} recevable(s).")
    return 1 + decided
