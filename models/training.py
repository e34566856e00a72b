"""Training and co-production sessions: invitations, reminders and attendance."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select

from models.context import Ctx
from models.errors import NotFound, Refused
from models.notices import NoticeKind, Recipient
from models.pilots import pilots
from models.recipients import consultancy_contacts, territory_contacts
from models.reminders import Planned, due_now, plan
from models.stages import StageName, stage
from models.tables import Attendance, Pilot, PilotStatus, ProgrammeState, TrainingSession
from models.text import require_line, visible


def sessions_of(ctx: Ctx, pilot: Pilot) -> list[TrainingSession]:
    return list(ctx.session.exec(select(TrainingSession).where(TrainingSession.pilot_id == pilot.id)
                                 .order_by(col(TrainingSession.starts_at))).all())


def find_session(ctx: Ctx, pilot: Pilot, key: str) -> TrainingSession:
    if pilot.status == PilotStatus.CHARTER_PENDING:
        raise Refused(f"L'accompagnement de {pilot.name} n'a pas commencé : ses sessions seront planifiées "
                      "à son lancement, une fois la charte signée par les trois parties.")
    for item in sessions_of(ctx, pilot):
        if item.key == key:
            return item
    known = ", ".join(s.key for s in sessions_of(ctx, pilot)) or "aucune"
    raise NotFound(f"Session « {visible(key)[:80]} » inconnue pour {pilot.name} (sessions : {known}).")


def series(ctx: Ctx, item: TrainingSession) -> list[Planned]:
    """The invitation (first of the series), then the reminders before a session."""
    rule = ctx.definition.reminders.session
    return plan(ctx.calendar, item.starts_at, [rule.invitation, *rule.before], [])


def planned(ctx: Ctx) -> list[datetime]:
    """Each active pilot's session invitations and reminders."""
    if ctx.programme.state != ProgrammeState.PILOTS_SELECTED:
        return []
    return [p.at for pilot in pilots(ctx, PilotStatus.ACTIVE) for item in sessions_of(ctx, pilot)
            for p in series(ctx, item)]


@stage(StageName.SESSIONS, planned=planned)
def invite_and_remind(ctx: Ctx, as_of: datetime) -> int:
    """Invite the pilot's people to each coming session, then remind them shortly before."""
    sent = 0
    for pilot in pilots(ctx, PilotStatus.ACTIVE):
        recipients: list[Recipient] = []  # read from the application once per pilot, when first needed
        for item in sessions_of(ctx, pilot):
            if as_of >= item.starts_at:
                continue
            reminder = due_now(series(ctx, item), as_of)
            if reminder is None:
                continue
            kind = NoticeKind.SESSION_INVITATION if reminder.index == 1 else NoticeKind.SESSION_REMINDER
            recipients = recipients or territory_contacts(ctx, pilot) + consultancy_contacts(ctx)
            sent += ctx.notify(kind,
                               recipients=recipients, key=f"session-{item.id}:{reminder.index}",
                               context={"pilote": pilot, "session": item}, at=as_of)
    return sent


def record_attendance(ctx: Ctx, item: TrainingSession, *, person: str, organisation: str,
                      present: bool, at: datetime) -> bool:
    """Record whether someone attended; correcting a record is allowed, repeating it changes nothing."""
    person = require_line(person, "Émargement refusé : nom de la personne")
    organisation = require_line(organisation, "Émargement refusé : structure (--organisation)")
    if at < item.starts_at:
        raise Refused(f"La session « {item.title} » n'a pas encore eu lieu : l'émargement attendra.")
    row = ctx.session.exec(select(Attendance).where(
        Attendance.session_id == item.id, Attendance.person == person)).first()
    if row is not None and row.present == present and row.organisation == organisation:
        return False
    if row is None:
        row = Attendance(session_id=item.id or 0, person=person, organisation=organisation,
                         present=present, recorded_at=at)
    else:
        row.present, row.organisation, row.recorded_at = present, organisation, at
    ctx.session.add(row)
    ctx.audit(at, "cerdd", "session.emargement", "training_session", item.id,
              f"{person} ({organisation}) {'présent(e)' if present else 'absent(e)'} à « {item.title} ».")
    return True
