"""What is past retention at an instant (RGPD art. 5-1-e): the units the purge erases, each with
the instant its retention ended, from the programme file's `retention` durations
(`models.programme.Retention`) counted from the event each names. A unit already erased is not
listed again (its marks: `models.erasure.ERASED` in its rows), so a purge run twice does nothing
the second time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from sqlmodel import col, select

from models.clock import add_paris, parse_duration
from models.context import ProgrammeContext
from models.erasure import ERASED, ERASED_BODY
from models.tables import (
    Application,
    ApplicationDraft,
    ApplicationStatus,
    ApplicationVersion,
    Intent,
    MailMessage,
    Notice,
    NoticeStatus,
    Pilot,
    ProgrammeMode,
)

NOT_RETAINED = (ApplicationStatus.INADMISSIBLE, ApplicationStatus.NOT_SELECTED, ApplicationStatus.WITHDRAWN)
DRAFT_ERASED = {"efface": True}
"""A draft's payload once erased."""


class UnitKind(StrEnum):
    """What one purge transaction erases (the report's words)."""

    APPLICATION = "candidature non retenue"
    PILOT = "pilote"
    INTENT = "intention de candidater"
    DRAFT = "brouillon non déposé"
    MAIL = "courriel reçu sans candidature"
    NOTICES = "corps d'avis"
    STAFF_ACCOUNT = "compte de l'équipe désactivé"
    STAFF_SESSIONS = "sessions de l'équipe"
    STAFF_SIGN_INS = "connexions refusées"
    STAFF_SIGN_IN_ENTRIES = "traces de connexion du journal"


@dataclass(frozen=True)
class Unit:
    """One unit past retention: its kind, its row (0 for notices, `notices` listing them, and for
    the team's sessions and sign-ins, `rows` listing them: `models.staff_retention`), a French label
    without personal data, and the instant its retention ended (UTC)."""

    kind: UnitKind
    id: int
    label: str
    ended: datetime
    notices: tuple[int, ...] = ()
    rows: tuple[int, ...] = ()


def _after(start: datetime | None, duration: str) -> datetime | None:
    return None if start is None else add_paris(start, parse_duration(duration))


def _erased_applications(ctx: ProgrammeContext) -> set[int]:
    rows = ctx.session.exec(select(ApplicationVersion.application_id, ApplicationVersion.submitted_by)
                            .join(Application).where(Application.programme_id == ctx.programme_id)).all()
    by_application: dict[int, set[str]] = {}
    for application_id, submitted_by in rows:
        by_application.setdefault(application_id, set()).add(submitted_by)
    return {a for a, who in by_application.items() if who == {ERASED}}


def candidates(ctx: ProgrammeContext) -> list[Unit]:
    """Every unit not erased yet with the instant its retention ends (None ends are left out)."""
    session, rules, programme = ctx.session, ctx.definition.retention, ctx.programme
    decision = programme.selected_at
    units: list[Unit] = []
    erased = _erased_applications(ctx)
    pilots = {p.application_id: p for p in session.exec(select(Pilot).where(Pilot.programme_id == ctx.programme_id))}
    applications = session.exec(select(Application).where(Application.programme_id == ctx.programme_id)
                                .order_by(col(Application.id))).all()
    for application in applications:
        if application.id in erased:
            continue
        pilot = pilots.get(application.id or 0)
        if pilot is not None:
            ended = _after(pilot.finished_at or pilot.withdrawn_at, rules.pilots)
            kind = UnitKind.PILOT
        elif application.status in NOT_RETAINED:
            ended = _after(decision or application.decided_at or application.withdrawn_at,
                           rules.applications_not_selected)
            kind = UnitKind.APPLICATION
        else:
            continue
        if ended is not None:
            units.append(Unit(kind, application.id or 0, application.receipt_number, ended))
    sirens = {a.lead_siren for a in applications}
    for intent in session.exec(select(Intent).where(Intent.programme_id == ctx.programme_id,
                                                    Intent.contact_email != "").order_by(col(Intent.id))):
        ended = _after(decision or programme.call_closed_at, rules.applications_not_selected)
        if intent.siren not in sirens and ended is not None:
            units.append(Unit(UnitKind.INTENT, intent.id or 0, f"intention n° {intent.id}", ended))
    for draft in session.exec(select(ApplicationDraft).where(ApplicationDraft.programme_id == ctx.programme_id,
                                                             col(ApplicationDraft.application_id).is_(None))):
        if draft.payload != DRAFT_ERASED and draft.lead_siren not in sirens:
            units.append(Unit(UnitKind.DRAFT, draft.id or 0, f"brouillon n° {draft.id}",
                              add_paris(draft.updated_at, parse_duration(rules.drafts_not_deposited))))
    for mail in session.exec(select(MailMessage).where(MailMessage.programme_id == ctx.programme_id,
                                                       col(MailMessage.application_id).is_(None),
                                                       MailMessage.subject != ERASED)):
        units.append(Unit(UnitKind.MAIL, mail.id or 0, f"courriel n° {mail.id}",
                          add_paris(mail.processed_at, parse_duration(rules.mailbox_refused))))
    return units


def notice_ends(ctx: ProgrammeContext) -> list[tuple[int, datetime]]:
    """Each notice whose body is not erased and that left (or expired, or was given up), with the
    instant its body's retention ends."""
    rows = ctx.session.exec(select(Notice.id, Notice.sent_at, Notice.expires_at, Notice.created_at).where(
        Notice.programme_id == ctx.programme_id, Notice.body_text != ERASED_BODY,
        col(Notice.status).in_([NoticeStatus.SENT, NoticeStatus.EXPIRED, NoticeStatus.DEAD]))).all()
    duration = parse_duration(ctx.definition.retention.notices)
    return [(notice_id or 0, add_paris(sent or expires or created, duration))
            for notice_id, sent, expires, created in rows]


def past_retention(ctx: ProgrammeContext, at: datetime) -> list[Unit]:
    """The units whose retention ended by `at`, in order (applications and pilots, intents, drafts,
    mails; then the notices' bodies as one unit)."""
    units = [unit for unit in candidates(ctx) if unit.ended <= at]
    notices = sorted((i, ended) for i, ended in notice_ends(ctx) if ended <= at)
    if notices:
        units.append(Unit(UnitKind.NOTICES, 0, f"{len(notices)} avis", max(e for _, e in notices),
                          tuple(i for i, _ in notices)))
    return units


_NEXT_DAY = parse_duration("P1D")
PURGE_HOUR = time(8, 0)
"""A retention that ends during a day is purged by the first tick of the next day (Paris time)."""


def purge_instant(ended: datetime) -> datetime:
    """When the tick purges what ended at `ended`: the next day, `PURGE_HOUR` Paris time."""
    return add_paris(ended, _NEXT_DAY, PURGE_HOUR)


def planned(ctx: ProgrammeContext) -> list[datetime]:
    """The instants at which the purge has work: the day after each retention ends, 8h00 Paris
    time. Only for a live programme: a replay (`ProgrammeMode.REPLAY`) is purged when asked
    (`transitions privacy purge --at`), so replaying 2015 does not run on through 2021."""
    if ctx.programme.mode != ProgrammeMode.LIVE:
        return []
    ends = [unit.ended for unit in candidates(ctx)] + [ended for _, ended in notice_ends(ctx)]
    return sorted({purge_instant(end) for end in ends})

