"""EPCI that announced an application: reminded before the deadline until they submit."""

from __future__ import annotations

from datetime import datetime

from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlmodel import col, select

from models.clock import format_paris
from models.context import ProgrammeContext
from models.errors import InvalidInput, Refused
from models.forms import check_siren
from models.notices import NoticeKind, Recipient
from models.reminders import Planned, due_now, plan_rule
from models.stages import StageName, stage
from models.tables import Application, Intent, ProgrammeState
from models.text import require_line, visible

_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)


def declare(ctx: ProgrammeContext, *, siren: str, contact_name: str, contact_email: str, at: datetime) -> bool:
    """Record that an EPCI of the register intends to apply; declaring it again changes nothing."""
    call = ctx.definition.call
    if not call.launch <= at < call.deadline:
        raise Refused(f"Une intention de candidater se déclare pendant l'appel, du {format_paris(call.launch)} "
                      f"au {format_paris(call.deadline)}.")
    if ctx.programme.state not in (ProgrammeState.READY, ProgrammeState.CALL_OPEN):  # dated back, too late
        raise Refused("L'appel est clos : une intention de candidater ne se déclare plus.")
    try:
        siren = check_siren(siren)
        contact_email = _EMAIL.validate_python(contact_email)
    except (ValueError, ValidationError) as exc:
        message = (f"l'adresse « {visible(contact_email)[:80]} » n'est pas une adresse électronique valide"
                   if isinstance(exc, ValidationError) else str(exc))
        raise InvalidInput(f"Intention refusée : {message}.") from None
    contact_name = require_line(contact_name, "Intention refusée : nom du contact")
    epci = ctx.register.epci(siren)
    if epci is None:
        commune = ctx.register.commune(siren)
        what = f"celui de la commune {commune[0].name}" if commune else "celui d'aucun EPCI du registre 2015"
        raise InvalidInput(f"Intention refusée : seul un EPCI du Nord ou du Pas-de-Calais peut porter une candidature, "
                           f"et le SIREN {siren} est {what}.")
    existing = ctx.session.exec(select(Intent).where(Intent.programme_id == ctx.programme_id,
                                                     Intent.siren == siren)).first()
    if existing is not None:
        if (existing.contact_name, existing.contact_email) == (contact_name, contact_email):
            return False
        existing.contact_name, existing.contact_email = contact_name, contact_email
        ctx.session.add(existing)
    else:
        ctx.session.add(Intent(programme_id=ctx.programme_id, siren=siren, name=epci.name,
                               contact_name=contact_name, contact_email=contact_email, declared_at=at))
    ctx.audit(at, contact_email, "intention.declaree", "intent", None,
              f"{epci.name} annonce sa candidature (contact : {contact_name}).")
    return True


def series(ctx: ProgrammeContext) -> list[Planned]:
    """The reminders planned before the call's deadline."""
    return plan_rule(ctx.calendar, ctx.definition.call.deadline, ctx.definition.reminders.deadline)


def planned(ctx: ProgrammeContext) -> list[datetime]:
    """The deadline reminders, while the call is open."""
    return [p.at for p in series(ctx)] if ctx.programme.state == ProgrammeState.CALL_OPEN else []


@stage(StageName.CALL_REMINDERS, planned=planned)
def remind(ctx: ProgrammeContext, as_of: datetime) -> int:
    """Before the deadline, remind each announced EPCI that has not submitted yet."""
    call = ctx.definition.call
    if ctx.programme.state != ProgrammeState.CALL_OPEN or as_of >= call.deadline:
        return 0
    reminder = due_now(series(ctx), as_of)
    if reminder is None:
        return 0
    submitted = set(ctx.session.exec(select(Application.lead_siren).where(
        Application.programme_id == ctx.programme_id)).all())
    intents = ctx.session.exec(select(Intent).where(Intent.programme_id == ctx.programme_id,
                                                    Intent.declared_at < reminder.at)
                               .order_by(col(Intent.id))).all()
    sent = 0
    for intent in intents:
        if intent.siren in submitted:
            continue
        sent += ctx.notify(NoticeKind.DEADLINE_REMINDER,
                           recipients=[Recipient(intent.contact_email, intent.contact_name)],
                           key=f"intention-{intent.id}:{reminder.index}",
                           context={"intention": intent, "appel": call}, at=as_of)
    return sent
