"""Training and co-production sessions: invitations with their calendar part, the territory's
answers to them, reminders, reschedules and cancellations that update the invitees' calendars,
and attendance."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import and_, col, exists, select

from models import history, outbox
from models.clock import format_paris, paris
from models.context import ProgrammeContext
from models.errors import ALLOWED, InvalidInput, NotFound, Refused, Verdict
from models.invitations import invitation
from models.notices import NoticeKind, Recipient
from models.pilots import by_active_pilot, pilots, slot_taken
from models.recipients import consultancy_contacts, manager, territory_contacts
from models.reminders import Planned, due_now, plan
from models.stages import StageName, stage
from models.tables import (
    Application,
    Attendance,
    Pilot,
    PilotStatus,
    ProgrammeState,
    SessionAnswer,
    SessionStatus,
    TrainingSession,
)
from models.text import require_line, require_text, visible


def sessions_of(ctx: ProgrammeContext, pilot: Pilot) -> list[TrainingSession]:
    return list(ctx.session.exec(select(TrainingSession).where(TrainingSession.pilot_id == pilot.id)
                                 .order_by(col(TrainingSession.starts_at))).all())


def active_sessions(ctx: ProgrammeContext) -> dict[int, list[TrainingSession]]:
    """Every active pilot's sessions, by pilot id then start, in one query (a stage walking every
    pilot reads them once, not once per pilot)."""
    return by_active_pilot(ctx, TrainingSession, col(TrainingSession.starts_at), col(TrainingSession.id))


def find_session(ctx: ProgrammeContext, pilot: Pilot, key: str) -> TrainingSession:
    if pilot.status == PilotStatus.CHARTER_PENDING:
        raise Refused(f"L'accompagnement de {pilot.name} n'a pas commencé : ses sessions seront planifiées "
                      "à son lancement, une fois la charte signée par les trois parties.")
    for training_session in sessions_of(ctx, pilot):
        if training_session.key == key:
            return training_session
    known = ", ".join(s.key for s in sessions_of(ctx, pilot)) or "aucune"
    raise NotFound(f"Session « {visible(key)[:80]} » inconnue pour {pilot.name} (sessions : {known}).")


def series(ctx: ProgrammeContext, training_session: TrainingSession) -> list[Planned]:
    """The invitation (first of the series), then the reminders before a session."""
    return _series_at(ctx, training_session.starts_at)


def _series_at(ctx: ProgrammeContext, starts_at: datetime) -> list[Planned]:
    rule = ctx.definition.reminders.session
    return plan(ctx.calendar, starts_at, [rule.invitation, *rule.before], [])


def planned(ctx: ProgrammeContext) -> list[datetime]:
    """Each active pilot's session invitations and reminders."""
    if ctx.programme.state != ProgrammeState.PILOTS_SELECTED:
        return []
    # Only the start instants, in one query: no row objects to build for a list of instants.
    starts = ctx.session.exec(select(TrainingSession.starts_at).distinct().join(Pilot).where(
        Pilot.programme_id == ctx.programme_id, Pilot.status == PilotStatus.ACTIVE,
        TrainingSession.status == SessionStatus.PLANNED)).all()
    return [p.at for starts_at in starts for p in _series_at(ctx, starts_at)]


def invitees(ctx: ProgrammeContext, pilot: Pilot) -> list[Recipient]:
    """Who is invited to a pilot's sessions: the territory's people and the consultancy."""
    return territory_contacts(ctx, pilot) + consultancy_contacts(ctx)


def _calendar_of(ctx: ProgrammeContext, pilot: Pilot, training_session: TrainingSession,
                 at: datetime) -> Callable[[Recipient], str]:
    organiser = manager(ctx)[0]

    def write(person: Recipient) -> str:
        return invitation(training_session, pilot.name, organiser=organiser, attendee=person, stamp=at)

    return write


@stage(StageName.SESSIONS, planned=planned)
def invite_and_remind(ctx: ProgrammeContext, as_of: datetime) -> int:
    """Invite the pilot's people to each coming session (with its calendar event), then remind
    them shortly before; a session already announced is not announced again after a reschedule
    (its update did it), but its reminders follow the new date."""
    sent = 0
    by_pilot = active_sessions(ctx)
    for pilot in pilots(ctx, PilotStatus.ACTIVE):
        recipients: list[Recipient] = []  # read from the application once per pilot, when first needed
        answers: dict[int, SessionAnswer] | None = None
        for training_session in by_pilot.get(pilot.id or 0, []):
            if as_of >= training_session.starts_at or training_session.status != SessionStatus.PLANNED:
                continue
            reminder = due_now(series(ctx, training_session), as_of)
            if reminder is None:
                continue
            recipients = recipients or invitees(ctx, pilot)
            if reminder.index == 1:
                if training_session.invited_at is not None:
                    continue
                training_session.invited_at = as_of
                ctx.session.add(training_session)
                sent += ctx.notify(NoticeKind.SESSION_INVITATION, recipients=recipients,
                                   key=f"session-{training_session.id}:{training_session.sequence}",
                                   context={"pilote": pilot, "session": training_session}, at=as_of,
                                   calendar=_calendar_of(ctx, pilot, training_session, as_of))
                continue
            answers = answers if answers is not None else answers_of(ctx, pilot)
            sent += ctx.notify(NoticeKind.SESSION_REMINDER,
                               recipients=reminded(ctx, pilot, answers.get(training_session.id or 0), recipients),
                               key=f"session-{training_session.id}:{training_session.sequence}:{reminder.index}",
                               context={"pilote": pilot, "session": training_session}, at=as_of)
    return sent


def reminded(ctx: ProgrammeContext, pilot: Pilot, answer: SessionAnswer | None,
             recipients: list[Recipient]) -> list[Recipient]:
    """Who a session's reminder goes to: its invitees, less the territory's people when the territory
    answered that it will be absent (a later « present » answer brings them back: the next reminder
    of the series, keyed per person, then reaches them)."""
    if answer is None or answer.attending:
        return recipients
    territory = {person.email.lower() for person in territory_contacts(ctx, pilot)}
    return [person for person in recipients if person.email.lower() not in territory]


def may_change(ctx: ProgrammeContext, training_session: TrainingSession, at: datetime) -> Verdict:
    """Whether the session may be moved or cancelled at `at`: its pilot under way, the session
    neither cancelled nor started (Refused otherwise)."""
    pilot = ctx.session.get(Pilot, training_session.pilot_id)
    assert pilot is not None
    if pilot.status != PilotStatus.ACTIVE:
        return Verdict(f"L'accompagnement de {pilot.name} n'est pas en cours : ses sessions ne changent plus.")
    if training_session.status == SessionStatus.CANCELLED:
        return Verdict(f"La session « {training_session.title} » est annulée.")
    if at >= training_session.starts_at:
        return Verdict(f"La session « {training_session.title} » a commencé le "
                       f"{format_paris(training_session.starts_at)} : elle ne peut plus être déplacée ni annulée.")
    return ALLOWED


def _changeable(ctx: ProgrammeContext, training_session: TrainingSession, at: datetime) -> Pilot:
    may_change(ctx, training_session, at).enforce()
    pilot = ctx.session.get(Pilot, training_session.pilot_id)
    assert pilot is not None
    return pilot


def reschedule(ctx: ProgrammeContext, training_session: TrainingSession, *, to: datetime, reason: str, at: datetime,
               place: str | None = None, by: str = "cerdd") -> bool:
    """Move a session (same length) to `to`, optionally to another place, for a stated reason.
    People already invited receive an update of their calendar event (same UID, higher SEQUENCE);
    reminders follow the new date. Moving it where it already is changes nothing. InvalidInput for a
    reason or a place holding a control character or a bidi override (`models.text`: they reach
    mail and calendar lines)."""
    if not reason.strip():
        raise InvalidInput("Déplacement refusé : le motif est obligatoire.")
    reason = require_text(reason, "Motif du déplacement")  # it reaches the invitees' mail and calendar
    pilot = _changeable(ctx, training_session, at)
    # the place reaches the calendar's LOCATION line
    place = require_line(place, "Lieu") if place and place.strip() else training_session.location
    if to == training_session.starts_at and place == training_session.location:
        return False
    if to <= at:
        raise InvalidInput(f"La nouvelle date ({format_paris(to)}) doit être postérieure au {format_paris(at)}.")
    if not ctx.calendar.is_working_day(paris(to).date()):
        raise InvalidInput(f"Le {format_paris(to, with_time=False)} n'est pas un jour ouvré.")
    length = training_session.ends_at - training_session.starts_at
    if slot_taken(ctx, place, to, to + length, besides=training_session.id):
        raise Refused(f"{place} accueille déjà une session du programme le {format_paris(to)} : "
                      "choisissez une autre heure ou un autre lieu.")
    before, before_place = training_session.starts_at, training_session.location
    previous = history.before(training_session, "starts_at", "ends_at", "location", "sequence")
    training_session.starts_at, training_session.ends_at, training_session.location = to, to + length, place
    training_session.sequence += 1
    ctx.session.add(training_session)
    ctx.session.flush()
    if training_session.invited_at is not None:
        ctx.notify(NoticeKind.SESSION_UPDATED, recipients=invitees(ctx, pilot),
                   key=f"session-{training_session.id}:{training_session.sequence}",
                   context={"pilote": pilot, "session": training_session, "motif": reason, "ancienne_date": before,
                            "ancien_lieu": before_place}, at=at,
                   calendar=_calendar_of(ctx, pilot, training_session, at))
    ctx.audit(at, by, "session.deplacee", "training_session", training_session.id,
              f"{pilot.name} : « {training_session.title} » déplacée du {format_paris(before)} ({before_place}) au "
              f"{format_paris(to)} ({place}) : {reason}.", motif=reason, sequence=training_session.sequence,
              avant=previous)
    return True


def cancel(ctx: ProgrammeContext, training_session: TrainingSession, *, reason: str, at: datetime,
           by: str = "cerdd") -> bool:
    """Cancel a session for a stated reason; people already invited receive the cancellation of
    their calendar event (METHOD:CANCEL). Cancelling twice changes nothing. InvalidInput for a reason
    holding a control character or a bidi override."""
    if not reason.strip():
        raise InvalidInput("Annulation refusée : le motif est obligatoire.")
    reason = require_text(reason, "Motif de l'annulation")
    if training_session.status == SessionStatus.CANCELLED:
        return False
    pilot = _changeable(ctx, training_session, at)
    previous = history.before(training_session, "status", "cancel_reason", "sequence")
    training_session.status = SessionStatus.CANCELLED
    training_session.cancel_reason = reason
    training_session.sequence += 1
    ctx.session.add(training_session)
    ctx.session.flush()
    if training_session.invited_at is not None:
        ctx.notify(NoticeKind.SESSION_CANCELLED, recipients=invitees(ctx, pilot), key=f"session-{training_session.id}",
                   context={"pilote": pilot, "session": training_session, "motif": reason}, at=at,
                   calendar=_calendar_of(ctx, pilot, training_session, at))
    ctx.audit(at, by, "session.annulee", "training_session", training_session.id,
              f"{pilot.name} : « {training_session.title} » du {format_paris(training_session.starts_at)} "
              f"annulée : {reason}.", motif=reason, avant=previous)
    return True


def held_at(ctx: ProgrammeContext, training_session: TrainingSession, as_of: datetime) -> datetime | None:
    """When the session counts as held: its first attendance record, if recorded by `as_of`."""
    if training_session.status == SessionStatus.CANCELLED:
        return None
    first = ctx.session.exec(select(Attendance.recorded_at).where(_records(training_session.id, as_of))
                             .order_by(col(Attendance.recorded_at))).first()
    return first


def _records(session_id: Any, as_of: datetime) -> Any:
    """SQL: the attendance records of the session `session_id` (a value or a column) made by
    `as_of`: the one rule of `held_at` and of `ended_between(…, unrecorded_at=)`."""
    return and_(col(Attendance.session_id) == session_id, col(Attendance.recorded_at) <= as_of)


def _recorded_by(as_of: datetime) -> Any:
    """SQL: the session of the row has an attendance record by `as_of` (`held_at` is not None for a
    session not cancelled)."""
    return exists().where(_records(TrainingSession.id, as_of))


ATTENDANCE_GRACE = timedelta(days=1)
"""How long after a session ends its attendance may wait before the Cerdd's manager is reminded
(the `rappel-presences` deployment's proactive trigger waits as long: prefect.yaml)."""


def ended_between(ctx: ProgrammeContext, start: datetime | None, end: datetime, *,
                  unrecorded_at: datetime | None = None) -> list[TrainingSession]:
    """The sessions of active pilots, not cancelled, whose end lies in (`start`, `end`] (from the
    beginning when `start` is None), earliest first; with `unrecorded_at`, only those with no
    attendance recorded by then (`held_at` None), in the same one query whatever their number."""
    query = (select(TrainingSession).join(Pilot, col(Pilot.id) == TrainingSession.pilot_id)
             .where(Pilot.programme_id == ctx.programme_id, Pilot.status == PilotStatus.ACTIVE,
                    TrainingSession.status != SessionStatus.CANCELLED, col(TrainingSession.ends_at) <= end))
    if start is not None:
        query = query.where(col(TrainingSession.ends_at) > start)
    if unrecorded_at is not None:
        query = query.where(~_recorded_by(unrecorded_at))
    return list(ctx.session.exec(query.order_by(col(TrainingSession.ends_at), col(TrainingSession.id))).all())


def attendance_reminders(ctx: ProgrammeContext, as_of: datetime, grace: timedelta = ATTENDANCE_GRACE) -> int:
    """Remind the Cerdd's manager, once per session, of every session that ended at least `grace`
    before `as_of` with no attendance recorded by then; returns the number of sessions reminded of
    for the first time (0 when run again: the outbox keeps one notice per session)."""
    reminded = 0
    for training_session in ended_between(ctx, None, as_of - grace, unrecorded_at=as_of):
        pilot = ctx.session.get(Pilot, training_session.pilot_id)
        application = ctx.session.get(Application, pilot.application_id) if pilot is not None else None
        if pilot is None or application is None:
            continue
        days = (as_of - training_session.ends_at).days
        queued = ctx.notify(NoticeKind.ATTENDANCE_MISSING, recipients=manager(ctx),
                            key=f"session-{training_session.id}",
                            context={"pilote": pilot, "session": training_session, "siren": application.lead_siren,
                                     "depuis": f"{days} jour{'s' if days > 1 else ''}"}, at=as_of)
        reminded += 1 if queued else 0
    return reminded


def may_record_attendance(training_session: TrainingSession, at: datetime) -> Verdict:
    """Whether attendance may be recorded at `at`: the session not cancelled, and started."""
    if training_session.status == SessionStatus.CANCELLED:
        return Verdict(f"La session « {training_session.title} » a été annulée : pas d'émargement.")
    if at < training_session.starts_at:
        return Verdict(f"La session « {training_session.title} » n'a pas encore eu lieu : l'émargement attendra.")
    return ALLOWED


def record_attendance(ctx: ProgrammeContext, training_session: TrainingSession, *, person: str, organisation: str,
                      present: bool, at: datetime, by: str = "cerdd") -> bool:
    """Record whether someone attended (audited as done by `by`); correcting a record is allowed,
    repeating it changes nothing."""
    person = require_line(person, "Émargement refusé : nom de la personne")
    organisation = require_line(organisation, "Émargement refusé : structure (--organisation)")
    may_record_attendance(training_session, at).enforce()
    row = ctx.session.exec(select(Attendance).where(
        Attendance.session_id == training_session.id, Attendance.person == person)).first()
    if row is not None and row.present == present and row.organisation == organisation:
        return False
    if row is None:
        row = Attendance(session_id=training_session.id or 0, person=person, organisation=organisation,
                         present=present, recorded_at=at)
    else:
        row.present, row.organisation, row.recorded_at = present, organisation, at
    ctx.session.add(row)
    ctx.audit(at, by, "session.emargement", "training_session", training_session.id,
              f"{person} ({organisation}) {'présent(e)' if present else 'absent(e)'} à « {training_session.title} ».")
    return True


# --- Answers to invitations -----------------------------------------------------------------------

def may_answer(ctx: ProgrammeContext, pilot: Pilot, training_session: TrainingSession, at: datetime) -> Verdict:
    """Whether the territory may answer (or change its answer to) the invitation to `training_session`
    at `at`: a session of this pilot, not cancelled, not started yet."""
    if training_session.pilot_id != pilot.id:
        return Verdict("Cette session n'appartient pas à ce territoire.", NotFound)
    if training_session.status == SessionStatus.CANCELLED:
        return Verdict(f"La session « {training_session.title} » a été annulée : plus de réponse attendue.")
    if at >= training_session.starts_at:
        return Verdict(f"La session « {training_session.title} » a commencé le "
                       f"{format_paris(training_session.starts_at)} : la réponse n'est plus possible.")
    return ALLOWED


def answer_invitation(ctx: ProgrammeContext, pilot: Pilot, training_session: TrainingSession, *, attending: bool,
                      people: str, at: datetime, respondent: str = "territoire") -> bool:
    """The territory answers a session invitation (attending or not, and who will come); a new
    answer replaces the previous one, the same answer again changes nothing. Refused once the
    session has started or when it was cancelled (`may_answer`)."""
    may_answer(ctx, pilot, training_session, at).enforce()
    people = require_text(people, "Participants", max_length=2000, required=False)
    if attending and not people:
        raise InvalidInput("Indiquez qui viendra (un nom par ligne).")
    if not attending:
        people = ""
    row = ctx.session.exec(select(SessionAnswer).where(SessionAnswer.session_id == training_session.id,
                                                       SessionAnswer.respondent == respondent)).first()
    if row is not None and row.attending == attending and row.people == people:
        return False
    if row is None:
        row = SessionAnswer(session_id=training_session.id or 0, respondent=respondent, attending=attending,
                            people=people, answered_at=at)
    else:
        row.attending, row.people, row.answered_at = attending, people, at
    ctx.session.add(row)
    ctx.session.flush()
    who = ", ".join(line.strip() for line in people.splitlines() if line.strip())
    ctx.audit(at, f"{respondent}:{pilot.name}", "session.reponse", "training_session", training_session.id,
              f"{pilot.name} répond à l'invitation « {training_session.title} » : "
              + (f"présent ({who})." if attending else "absent."), present=attending, participants=who)
    if not attending:
        _set_aside_reminders(ctx, pilot, training_session, at)
    return True


def _set_aside_reminders(ctx: ProgrammeContext, pilot: Pilot, training_session: TrainingSession,
                         at: datetime) -> None:
    """The session's reminders to the territory's people queued and not sent yet no longer leave once
    it answered « absent » (those to come skip them: `reminded`); audited with their numbers."""
    territory = {person.email.lower() for person in territory_contacts(ctx, pilot)}
    waiting = [notice for notice in outbox.pending_about(ctx.session, ctx.programme_id,
                                                         {f"session-{training_session.id}"})
               if notice.kind == NoticeKind.SESSION_REMINDER and notice.recipient_email.lower() in territory]
    if not waiting:
        return
    why = f"sans objet : {pilot.name} a répondu absent le {format_paris(at)}"
    outbox.cancel(ctx.session, waiting, at=at, why=why)
    ctx.audit(at, "système", "avis.annules", "training_session", training_session.id,
              f"{len(waiting)} rappel{'s' if len(waiting) > 1 else ''} de « {training_session.title} » "
              f"annulé{'s' if len(waiting) > 1 else ''} ({', '.join(f'n°{n.id}' for n in waiting)}) : {why}.",
              avis=[n.id for n in waiting])


def answers_of(ctx: ProgrammeContext, pilot: Pilot) -> dict[int, SessionAnswer]:
    """The territory's answers to its sessions, by session id."""
    rows = ctx.session.exec(select(SessionAnswer).join(TrainingSession).where(
        TrainingSession.pilot_id == pilot.id)).all()
    return {row.session_id: row for row in rows}

