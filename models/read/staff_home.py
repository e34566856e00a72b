"""The back office's home for a member of the team (issue 23): who is signed in, their role, the
programme's next planned instants (read from the stored plan, `models.schedule.agenda`), what waits
for the Cerdd and what is late for the other parties, each item with the back-office page that
deals with it.

What waits for the Cerdd: the jury's decision (asked by `jury.request_decision`, not yet
recorded), the deliverables handed in to review, the due-date requests and the charters past their
deadline (`read.steps`, the Cerdd's own steps), the mails of the call's mailbox left « À revoir »
(`MailMessage`), the sessions ended without attendance (`training.held_at`) and the online drafts
asked for by an address not on file (`drafts._claimed`'s audit entry, until the address is added).
What is late for others: the parties' late steps (deliverables overdue, charters unsigned) and,
while the jury scores, each juror's missing scores (`jury.missing_scores`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from models.clock import format_paris
from models.context import ProgrammeContext
from models.jury import missing_scores
from models.pilots import pilots
from models.read.steps import Step, next_steps_of
from models.schedule import Due, agenda
from models.staff import PERMISSIONS, ROLE_LABELS, StaffAct
from models.tables import (
    ApplicationDraft,
    AuditEntry,
    CharterParty,
    MailMessage,
    MailOutcome,
    ProgrammeState,
    StaffMember,
    StaffRole,
    TrainingSession,
)
from models.training import ended_between
from models.wording import counted

AGENDA_LENGTH = 8
JURY, PILOTS, SESSIONS, DELIVERABLES, APPLICATIONS = (
    "/equipe/jury", "/equipe/pilotes", "/equipe/sessions", "/equipe/livrables", "/equipe/candidatures")
"""The back-office pages an item links to (the paths the team agreed on)."""


@dataclass(frozen=True)
class Item:
    """One thing waiting, in French, with when it became due (None: no instant) and the page that
    deals with it (a path of the back office)."""

    what: str
    when: datetime | None
    page: str
    late: bool = False


@dataclass(frozen=True)
class StaffHome:
    """What the home page shows (values only)."""

    name: str
    email: str
    role: str
    """The role in French (« chargé·e de mission »)."""
    acts: tuple[StaffAct, ...]
    """What the role allows besides reading."""
    programme: str
    agenda: tuple[Due, ...]
    """The programme's next instants after `now`, and what happens then (French)."""
    for_cerdd: tuple[Item, ...] = ()
    """What waits for the Cerdd's team, oldest first."""
    late_for_others: tuple[Item, ...] = ()
    """What the territories, the consultancy and the jurors are late with, oldest first."""
    more_for_cerdd: int = 0
    """Items waiting for the Cerdd beyond the HOME_ITEMS shown (their pages list them all)."""
    more_late: int = 0
    """Late items of the others beyond the HOME_ITEMS shown."""


def staff_home(ctx: ProgrammeContext, member: StaffMember, now: datetime) -> StaffHome:
    """The home page of `member` at the programme's present `now`."""
    role = StaffRole(member.role)
    due = [d for d in agenda(ctx.session, now, limit=AGENDA_LENGTH * 4, live_only=False)
           if d.programme == ctx.programme.slug][:AGENDA_LENGTH]
    acts = tuple(act for act, roles in PERMISSIONS.items() if act != StaffAct.READ and role in roles)
    steps = next_steps_of(ctx, pilots(ctx), now)  # every pilot's, read once for both lists
    for_cerdd, late = _ordered(waiting_for_cerdd(ctx, now, steps)), _ordered(late_for_others(ctx, now, steps))
    return StaffHome(member.name, member.email, ROLE_LABELS[role], acts, ctx.definition.title, tuple(due),
                     for_cerdd[:HOME_ITEMS], late[:HOME_ITEMS], max(0, len(for_cerdd) - HOME_ITEMS),
                     max(0, len(late) - HOME_ITEMS))


HOME_ITEMS = 25
"""Items of each list the home page shows, the oldest first: at 1,000 pilots a late deliverable
of each makes a thousand lines (1.2 MB); the pages they link to list them all, page by page."""


def _ordered(items: list[Item]) -> tuple[Item, ...]:
    return tuple(sorted(items, key=lambda item: (item.when is None, item.when or datetime.min)))


def _step_page(what: str) -> str:
    return PILOTS if "charte" in what else DELIVERABLES


def waiting_for_cerdd(ctx: ProgrammeContext, now: datetime, steps: list[Step] | None = None) -> list[Item]:
    """Everything the Cerdd's team must decide or record at `now` (see the module's docstring);
    `steps`: every pilot's next steps at `now` (`next_steps_of`), read here when not given."""
    items = _decision_awaited(ctx, now)
    steps = next_steps_of(ctx, pilots(ctx), now) if steps is None else steps
    items += [Item(f"{step.pilot} : {step.what}", step.when, _step_page(step.what), step.late)
              for step in steps if step.party == CharterParty.ORGANISER]
    items += _attendance_to_record(ctx, now)
    items += [Item(f"Courriel de {mail.sender or 'expéditeur inconnu'} « {mail.subject} » à revoir", mail.received_at,
                   APPLICATIONS) for mail in ctx.session.exec(select(MailMessage).where(
                       MailMessage.programme_id == ctx.programme_id, MailMessage.outcome == MailOutcome.REVIEW,
                       col(MailMessage.processed_at) <= now)).all()]
    return items + _drafts_claimed(ctx, now)


def _decision_awaited(ctx: ProgrammeContext, now: datetime) -> list[Item]:
    if ctx.programme.state != ProgrammeState.CALL_CLOSED:
        return []
    asked = ctx.session.exec(select(AuditEntry).where(
        AuditEntry.programme_id == ctx.programme_id, AuditEntry.action == "jury.decision_attendue",
        col(AuditEntry.at) <= now)).first()
    if asked is None:
        return []
    return [Item("Décision du jury attendue : confirmer le classement ou s'en écarter", asked.at, JURY)]


def _attendance_to_record(ctx: ProgrammeContext, now: datetime) -> list[Item]:
    ended: list[TrainingSession] = ended_between(ctx, None, now, unrecorded_at=now)
    names = {p.id: p.name for p in pilots(ctx)}
    return [Item(f"{names.get(s.pilot_id, '?')} : présences de la session « {s.title} » du "
                 f"{format_paris(s.starts_at)} à saisir", s.ends_at, SESSIONS) for s in ended]


def _drafts_claimed(ctx: ProgrammeContext, now: datetime) -> list[Item]:
    """Drafts asked for by an address not on file, while that address still does not hold them."""
    holders = {d.id: set(d.holders) for d in ctx.session.exec(select(ApplicationDraft).where(
        ApplicationDraft.programme_id == ctx.programme_id)).all()}
    claims = ctx.session.exec(select(AuditEntry).where(
        AuditEntry.programme_id == ctx.programme_id, AuditEntry.action == "candidature.lien_autre_adresse",
        col(AuditEntry.at) <= now).order_by(col(AuditEntry.at))).all()
    seen: dict[tuple[int | None, str], AuditEntry] = {}
    for entry in claims:
        address = str(entry.details.get("adresse", ""))
        if address and address not in holders.get(entry.entity_id, set()):
            seen.setdefault((entry.entity_id, address), entry)
    return [Item(f"Brouillon de candidature de SIREN {entry.details.get('siren', '?')} demandé par « {address} », "
                 "adresse non enregistrée : la lui confier ou non", entry.at, APPLICATIONS)
            for (_, address), entry in seen.items()]


def late_for_others(ctx: ProgrammeContext, now: datetime, steps: list[Step] | None = None) -> list[Item]:
    """What the other parties are late with at `now`: their late steps, the jurors' missing scores
    (`steps` as `waiting_for_cerdd`'s)."""
    steps = next_steps_of(ctx, pilots(ctx), now) if steps is None else steps
    items = [Item(f"{step.pilot} : {step.what}", step.when, _step_page(step.what), True)
             for step in steps if step.party != CharterParty.ORGANISER and step.late]
    if ctx.programme.state == ProgrammeState.CALL_CLOSED:
        meeting = ctx.definition.jury.meeting
        items += [Item(f"Jury : {juror} n'a pas noté {counted(len(missing), 'candidature')} "
                       f"({', '.join(missing)})", meeting, JURY, now >= meeting)
                  for juror, missing in missing_scores(ctx).items() if missing]
    return items
