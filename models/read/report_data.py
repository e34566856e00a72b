"""The report's read model: the programme as it stood at an instant, rebuilt from the stored facts.

Every fact timestamped after `as_of` is ignored, so that a report « au 1er septembre 2015 » printed
in December says what was true on 1 September: applications and versions by submission time,
decisions by their audit entries, scores by their recording time, signatures, phases, milestones,
attendance, deliveries and notices by their own instants. Known limits: a jury score revised after
`as_of` is read with its revision (the previous value is not kept), and a notice given up carries
no instant of its own (it counts as given up once created).

The HTML report, the exports and the terminal lists read these dataclasses; nothing here renders.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session, col, select

from models.accompaniment import Progress
from models.audit_chain import Head, head_at
from models.clock import format_paris
from models.context import ProgrammeContext
from models.history import History
from models.notices import LABELS as NOTICE_LABELS
from models.notices import NoticeKind
from models.pilots import find_pilot, pilot_named, pilots
from models.read.pilot_year import PilotYear, read_year
from models.tables import (
    STATE_LABELS,
    Application,
    ApplicationStatus,
    ApplicationVersion,
    Attendance,
    AuditEntry,
    ConflictOfInterest,
    JuryNotApplicable,
    JuryScore,
    Notice,
    NoticeStatus,
    Pilot,
    PilotStatus,
    Programme,
    ProgrammeState,
    SessionStatus,
    TrainingSession,
    label,
)

DECISIONS = {ApplicationStatus.ADMISSIBLE, ApplicationStatus.INADMISSIBLE, ApplicationStatus.SELECTED,
             ApplicationStatus.NOT_SELECTED}
JURY_STATUSES = {ApplicationStatus.ADMISSIBLE, ApplicationStatus.SELECTED, ApplicationStatus.NOT_SELECTED}

NEAR_TIE = 0.15
"""Two weighted means closer than this (on the jury's scale) are a near-tie worth a second look."""
DIVERGENCE = 2
"""Jurors whose scores on one criterion differ by this much or more disagree: the report shows it."""
LATE_GRACE = timedelta(days=1)
"""A milestone marked reached more than this after its due date was reached late."""



class ItemState(StrEnum):
    """A timeline item's state at an instant (phase, milestone, session, deliverable); the values
    are the codes the exports and the report's template show."""

    UPCOMING = "a_venir"
    IN_PROGRESS = "en_cours"  # a phase
    DONE = "terminee"  # a phase
    REACHED = "atteint"  # a milestone
    REACHED_LATE = "atteint_en_retard"
    LATE = "en_retard"  # a milestone or a deliverable past its date, a charter not signed by its date
    MISSED = "manque"  # a milestone past its date when the pilot's year is over
    HELD = "tenue"  # a session
    CANCELLED = "annulee"
    DELIVERED = "remis"  # a deliverable, on time
    DELIVERED_LATE = "remis_en_retard"
    WITHDRAWN = "retire"  # a milestone or a deliverable still ahead or late when its pilot was withdrawn


ITEM_LABELS: dict[str, str] = {
    ItemState.UPCOMING: "à venir",
    ItemState.IN_PROGRESS: "en cours",
    ItemState.DONE: "terminée",
    ItemState.REACHED: "atteint",
    ItemState.REACHED_LATE: "atteint en retard",
    ItemState.LATE: "en retard",
    ItemState.MISSED: "manqué",
    ItemState.HELD: "tenue",
    ItemState.CANCELLED: "annulée",
    ItemState.DELIVERED: "remis à l'heure",
    ItemState.DELIVERED_LATE: "remis en retard",
    PilotStatus.CHARTER_PENDING: "charte en attente",
    PilotStatus.FINISHED: "terminé",
}


def item_label(code: str) -> str:
    """The French words for a timeline item's state code."""
    return ITEM_LABELS.get(code, label(code))


# --------------------------------------------------------------------------- the call


@dataclass(frozen=True)
class ApplicationFact:
    id: int
    receipt: str
    siren: str
    name: str
    kind: str
    version: int
    first_submitted_at: datetime
    last_submitted_at: datetime
    status: str
    decided_at: datetime | None
    reason: str
    warnings: list[str]

    @property
    def status_label(self) -> str:
        return label(self.status)


@dataclass(frozen=True)
class RefusedAtDoor:
    at: datetime
    name: str
    siren: str
    reason: str


@dataclass
class Funnel:
    received: int
    admissible: int
    inadmissible: int
    undecided: int
    selected: int
    not_selected: int
    refused_at_door: list[RefusedAtDoor]
    inadmissible_reasons: Counter[str]


def applications_at(session: Session, ctx: ProgrammeContext, as_of: datetime) -> list[ApplicationFact]:
    """Every application submitted by `as_of`, with its version and decision at that instant."""
    rows = session.exec(select(Application).where(Application.programme_id == ctx.programme_id,
                                                  Application.first_submitted_at <= as_of)
                        .order_by(col(Application.id))).all()
    ids = [a.id for a in rows]
    versions = session.exec(select(ApplicationVersion).where(
        col(ApplicationVersion.application_id).in_(ids), ApplicationVersion.submitted_at <= as_of)).all()
    decisions = session.exec(select(AuditEntry).where(
        AuditEntry.programme_id == ctx.programme_id, col(AuditEntry.entity_id).in_(ids),
        AuditEntry.entity == "application", AuditEntry.at <= as_of,
        col(AuditEntry.action).in_([f"candidature.{s.value}" for s in DECISIONS]))
        .order_by(col(AuditEntry.at), col(AuditEntry.id))).all()
    latest: dict[int, AuditEntry] = {}
    for entry in decisions:
        latest[entry.entity_id or 0] = entry
    newest: dict[int, ApplicationVersion] = {}  # each application's latest version by `as_of`, in one pass
    for v in versions:
        if v.application_id not in newest or v.version > newest[v.application_id].version:
            newest[v.application_id] = v
    facts = []
    for a in rows:
        current = newest.get(a.id or 0)
        decision = latest.get(a.id or 0)
        status, reason, decided = ApplicationStatus.RECEIVED.value, "", None
        if decision is not None:
            status = decision.action.removeprefix("candidature.")
            decided = decision.at
            reason = (a.decision_reason or "") if status == a.status else _reason(decision)
        facts.append(ApplicationFact(
            id=a.id or 0, receipt=a.receipt_number, siren=a.lead_siren, name=a.lead_name, kind=a.lead_kind,
            version=current.version if current else a.version,
            first_submitted_at=a.first_submitted_at,
            last_submitted_at=current.submitted_at if current else a.last_submitted_at,
            status=status, decided_at=decided, reason=reason,
            warnings=list(current.warnings) if current else list(a.warnings)))
    return facts


def _reason(entry: AuditEntry) -> str:
    motif = entry.details.get("motif") if entry.details else None
    return str(motif) if motif else entry.summary.split(" : ", 1)[-1]


def refused_at_door(session: Session, ctx: ProgrammeContext, as_of: datetime) -> list[RefusedAtDoor]:
    rows = session.exec(select(AuditEntry).where(
        AuditEntry.programme_id == ctx.programme_id, AuditEntry.action == "candidature.refusee",
        AuditEntry.at <= as_of).order_by(col(AuditEntry.at))).all()
    return [RefusedAtDoor(r.at, str(r.details.get("lead", "")), str(r.details.get("siren", "")),
                          str(r.details.get("motif", r.summary))) for r in rows]


def funnel(applications: list[ApplicationFact], refused: list[RefusedAtDoor]) -> Funnel:
    counts = Counter(a.status for a in applications)
    return Funnel(
        received=len(applications),
        admissible=sum(counts[s] for s in JURY_STATUSES),
        inadmissible=counts[ApplicationStatus.INADMISSIBLE],
        undecided=counts[ApplicationStatus.RECEIVED],
        selected=counts[ApplicationStatus.SELECTED],
        not_selected=counts[ApplicationStatus.NOT_SELECTED],
        refused_at_door=refused,
        inadmissible_reasons=Counter(a.reason for a in applications if a.status == ApplicationStatus.INADMISSIBLE),
    )


# --------------------------------------------------------------------------- the jury


@dataclass(frozen=True)
class ScoreFact:
    receipt: str
    name: str
    juror: str
    body: str
    criterion: str
    criterion_label: str
    weight: int
    score: int
    comment: str
    recorded_at: datetime


@dataclass
class JuryLine:
    """One admissible application as the jury saw it at an instant."""

    application: ApplicationFact
    scores: dict[tuple[str, str], int | None]  # (juror, criterion) -> score, None when not given
    criterion_means: dict[str, tuple[float | None, int]]  # criterion -> (mean, number of scores)
    juror_means: dict[str, tuple[float | None, int]]  # juror -> (weighted mean, number of scores)
    divergent: list[str]  # criteria on which jurors differ by DIVERGENCE or more
    score: float | None
    count: int
    expected: int
    rank: int = 0
    near_tie: str = ""
    excluded: list[str] = field(default_factory=list)  # jurors in conflict of interest: scores left out
    not_applicable: set[tuple[str, str]] = field(default_factory=set)  # (juror, criterion) declared « non applicable »

    @property
    def missing(self) -> int:
        return self.expected - self.count

    def cell(self, juror: str, criterion: str) -> str:
        """What a juror gave on a criterion: the score, « n. a. » (declared non applicable) or « — » (not yet)."""
        value = self.scores.get((juror, criterion))
        if value is not None:
            return str(value)
        return "n. a." if (juror, criterion) in self.not_applicable else "—"


@dataclass
class JuryView:
    criteria: list[tuple[str, str, int]]  # key, label, weight
    jurors: list[tuple[str, str]]  # juror, body
    scale_max: int
    threshold: float
    pilots_min: int
    pilots_max: int
    meeting: datetime
    decided: bool
    lines: list[JuryLine] = field(default_factory=list)


def scores_at(session: Session, ctx: ProgrammeContext, as_of: datetime,
              applications: list[ApplicationFact]) -> list[ScoreFact]:
    jury = ctx.definition.jury
    criteria = {c.key: c for c in jury.criteria}
    bodies = {m.juror: m.body for m in jury.members}
    by_id = {a.id: a for a in applications}
    rows = session.exec(select(JuryScore).where(col(JuryScore.application_id).in_(list(by_id)),
                                                JuryScore.recorded_at <= as_of)
                        .order_by(col(JuryScore.application_id), col(JuryScore.juror), col(JuryScore.id))).all()
    conflicted = {(c.application_id, c.juror) for c in session.exec(select(ConflictOfInterest).where(
        col(ConflictOfInterest.application_id).in_(list(by_id)), ConflictOfInterest.declared_at <= as_of)).all()}
    rows = [s for s in rows if (s.application_id, s.juror) not in conflicted]  # their scores do not count
    return [ScoreFact(by_id[s.application_id].receipt, by_id[s.application_id].name, s.juror,
                      bodies.get(s.juror, ""), s.criterion,
                      criteria[s.criterion].label if s.criterion in criteria else s.criterion,
                      criteria[s.criterion].weight if s.criterion in criteria else 0, s.score, s.comment,
                      s.recorded_at) for s in rows]


def jury_view(ctx: ProgrammeContext, as_of: datetime, applications: list[ApplicationFact],
              scores: list[ScoreFact]) -> JuryView:
    """Per-criterion and per-juror scores, n/a, divergences, weighted means and near-ties."""
    jury = ctx.definition.jury
    weights = {c.key: c.weight for c in jury.criteria}
    view = JuryView(criteria=[(c.key, c.label, c.weight) for c in jury.criteria],
                    jurors=[(m.juror, m.body) for m in jury.members], scale_max=jury.scale_max,
                    threshold=jury.threshold, pilots_min=jury.pilots.min, pilots_max=jury.pilots.max,
                    meeting=jury.meeting,
                    decided=any(a.status in (ApplicationStatus.SELECTED, ApplicationStatus.NOT_SELECTED)
                                for a in applications))
    declared = ctx.session.exec(select(ConflictOfInterest).where(
        col(ConflictOfInterest.application_id).in_([a.id for a in applications]),
        ConflictOfInterest.declared_at <= as_of)).all()
    marked = ctx.session.exec(select(JuryNotApplicable).where(
        col(JuryNotApplicable.application_id).in_([a.id for a in applications]),
        JuryNotApplicable.recorded_at <= as_of)).all()
    conflicted: dict[int, list[str]] = defaultdict(list)  # grouped once: 1,250 applications, not 1,250²
    for conflict in declared:
        conflicted[conflict.application_id].append(conflict.juror)
    not_applicable: dict[int, list[JuryNotApplicable]] = defaultdict(list)
    for mark in marked:
        not_applicable[mark.application_id].append(mark)
    scored: dict[str, dict[tuple[str, str], int]] = defaultdict(dict)
    for fact in scores:
        scored[fact.receipt][(fact.juror, fact.criterion)] = fact.score
    for application in applications:
        if application.status not in JURY_STATUSES:
            continue
        excluded = sorted(conflicted.get(application.id, ()))
        declared_na = {(m.juror, m.criterion) for m in not_applicable.get(application.id, ())
                       if m.juror not in excluded}
        own = scored.get(application.receipt, {})
        grid: dict[tuple[str, str], int | None] = {(m.juror, c.key): own.get((m.juror, c.key))
                                                   for m in jury.members for c in jury.criteria}
        by_criterion: dict[str, tuple[float | None, int]] = {}
        divergent = []
        for c in jury.criteria:
            values = [v for (j, k), v in grid.items() if k == c.key and v is not None]
            by_criterion[c.key] = (round(sum(values) / len(values), 2) if values else None, len(values))
            if values and max(values) - min(values) >= DIVERGENCE:
                divergent.append(c.key)
        by_juror: dict[str, tuple[float | None, int]] = {}
        for m in jury.members:
            given = [(k, v) for (j, k), v in grid.items() if j == m.juror and v is not None]
            weight = sum(weights[k] for k, _ in given)
            by_juror[m.juror] = (round(sum(v * weights[k] for k, v in given) / weight, 2) if weight else None,
                                 len(given))
        given_all = [(k, v) for (_, k), v in grid.items() if v is not None]
        weight = sum(weights[k] for k, _ in given_all)
        view.lines.append(JuryLine(
            application=application, scores=grid, criterion_means=by_criterion, juror_means=by_juror,
            divergent=divergent, score=round(sum(v * weights[k] for k, v in given_all) / weight, 2) if weight else None,
            count=len(given_all), expected=len(grid) - len(excluded) * len(jury.criteria) - len(declared_na),
            excluded=excluded, not_applicable=declared_na))
    view.lines.sort(key=lambda line: (line.score is None, -(line.score or 0), line.application.id))
    for rank, line in enumerate(view.lines, start=1):
        line.rank = rank
    _flag_near_ties(view)
    return view


def _flag_near_ties(view: JuryView) -> None:
    """Flag the means within NEAR_TIE of the threshold, and both sides of the cut-off when they are close."""
    scored = [line for line in view.lines if line.score is not None]
    for line in scored:
        assert line.score is not None
        notes = []
        if abs(line.score - view.threshold) < NEAR_TIE:
            notes.append("proche du seuil")
        if len(scored) > view.pilots_max:
            last_in, first_out = scored[view.pilots_max - 1], scored[view.pilots_max]
            assert last_in.score is not None and first_out.score is not None
            if line in (last_in, first_out) and abs(last_in.score - first_out.score) < NEAR_TIE:
                notes.append(f"quasi-égalité au rang {view.pilots_max}")
        line.near_tie = ", ".join(notes)


# --------------------------------------------------------------------------- the pilots


@dataclass(frozen=True)
class TimelineItem:
    """A phase, milestone, session or deliverable placed in time, with its state at the instant."""

    kind: str  # phase, jalon, session, livrable
    key: str
    title: str
    start: datetime  # phase start, milestone or deliverable due date, session start
    end: datetime | None  # phase or session end
    done_at: datetime | None  # completed, reached, delivered (None if not yet at the instant)
    state: ItemState
    present: int = 0
    absent: int = 0
    location: str = ""
    withdrawn_at: datetime | None = None
    """When its pilot was withdrawn, for an item left without object (`ItemState.WITHDRAWN`)."""

    @property
    def state_label(self) -> str:
        if self.state == ItemState.WITHDRAWN and self.withdrawn_at is not None:
            return f"retiré le {format_paris(self.withdrawn_at, with_time=False)}"
        return item_label(self.state)

    @property
    def late(self) -> bool:
        return self.state in (ItemState.LATE, ItemState.MISSED)


@dataclass(frozen=True)
class SignatureFact:
    party: str
    signatory: str
    signed_at: datetime


PARTY_NAMES = {"territoire": "le territoire", "cerdd": "le Cerdd", "prestataire": "le prestataire"}
"""A charter party's code as a person reads it."""


@dataclass
class PilotView:
    id: int
    name: str
    siren: str
    receipt: str
    rank: int
    status: str
    selected_at: datetime
    kickoff_at: datetime | None
    ends_at: datetime | None
    finished_at: datetime | None
    signatures: list[SignatureFact]
    phases: list[TimelineItem]
    milestones: list[TimelineItem]
    sessions: list[TimelineItem]
    deliverables: list[TimelineItem]
    progress: Progress
    as_of: datetime
    missing_parties: list[str] = field(default_factory=list)
    sign_by: datetime | None = None

    @property
    def late(self) -> list[TimelineItem]:
        """What is late at the instant, the oldest first (a charter not signed by its date included)."""
        if self.status == PilotStatus.WITHDRAWN:  # a withdrawn territory owes nothing any more
            return []
        items = [i for i in self.milestones + self.deliverables if i.late]
        if self.missing_parties and self.sign_by is not None and self.sign_by < self.as_of:
            items.append(TimelineItem("charte", "charte", "Signature de la charte ("
                                      + ", ".join(PARTY_NAMES.get(p, p) for p in self.missing_parties) + ")",
                                      self.sign_by, None, None, ItemState.LATE))
        return sorted(items, key=lambda i: i.start)

    @property
    def status_label(self) -> str:
        return item_label(self.status)


def pilot_views(ctx: ProgrammeContext, as_of: datetime, pilot_ref: str | None = None, *,
                among: Sequence[Pilot] | None = None) -> list[PilotView]:
    """Each pilot selected by `as_of` (or only `pilot_ref`: SIREN, receipt number or name; or only
    those `among`, a page of them)."""
    session = ctx.session
    past = History(session, ctx.programme_id, as_of)  # later moves, cancellations, postponements undone
    views = []
    if pilot_ref:  # one pilot: found by indexed queries, not by reading every pilot
        chosen = [found] if (found := pilot_named(ctx, pilot_ref)) is not None else []
    else:
        chosen = list(among) if among is not None else pilots(ctx)
    for pilot in chosen:
        if pilot.selected_at > as_of:
            continue
        views.append(view_of(ctx, read_year(ctx, pilot, as_of, past)))
    return views


def _at(value: datetime | None, as_of: datetime) -> datetime | None:
    return value if value is not None and value <= as_of else None


def view_of(ctx: ProgrammeContext, year: PilotYear) -> PilotView:
    """The pilot's view at its year's instant, from its year read once (`models.read.pilot_year`)."""
    pilot, as_of, past = year.pilot, year.as_of, year.past
    kickoff = _at(pilot.kickoff_at, as_of)
    finished = _at(pilot.finished_at, as_of)
    withdrawn = _at(pilot.withdrawn_at, as_of)
    status = (PilotStatus.WITHDRAWN if withdrawn else PilotStatus.FINISHED if finished
              else PilotStatus.ACTIVE if kickoff else PilotStatus.CHARTER_PENDING)
    signatures = [SignatureFact(s.party, s.signatory, s.signed_at) for s in sorted(
        (s for s in year.signatures.values() if s.signed_at <= as_of), key=lambda s: s.signed_at)]
    phases = []
    for p in past.all(year.phases):
        done, started = _at(p.completed_at, as_of), _at(p.started_at, as_of)
        phases.append(TimelineItem("phase", p.key, p.title, p.starts_at, p.ends_at, done,
                                   ItemState.DONE if done else ItemState.IN_PROGRESS if started
                                   else ItemState.UPCOMING))
    milestones = []
    for m in sorted(past.all(year.milestones), key=lambda row: (row.due_at, row.id or 0)):
        reached = _at(m.reached_at, as_of)
        if reached:
            state = ItemState.REACHED_LATE if reached > m.due_at + LATE_GRACE else ItemState.REACHED
        elif m.due_at <= as_of:
            state = ItemState.MISSED if finished else ItemState.LATE
        else:
            state = ItemState.UPCOMING
        if withdrawn and not reached:
            state = ItemState.WITHDRAWN
        milestones.append(TimelineItem("jalon", m.key, m.title, m.due_at, None, reached, state,
                                       withdrawn_at=withdrawn))
    sessions = []
    for s in sorted(past.all(year.sessions), key=lambda row: (row.starts_at, row.id or 0)):
        own = year.attendance.get(s.id or 0, ())
        cancelled = s.status == SessionStatus.CANCELLED
        held = s.ends_at <= as_of and not cancelled
        sessions.append(TimelineItem("session", s.key, s.title, s.starts_at, s.ends_at, s.ends_at if held else None,
                                     ItemState.CANCELLED if cancelled else ItemState.HELD if held
                                     else ItemState.UPCOMING,
                                     present=sum(1 for a in own if a.present),
                                     absent=sum(1 for a in own if not a.present), location=s.location))
    deliverables = []
    for d in sorted(past.all(year.deliverables), key=lambda row: (row.due_at, row.id or 0)):
        delivered = _at(d.delivered_at, as_of)
        if delivered:
            state = ItemState.DELIVERED_LATE if delivered > d.due_at else ItemState.DELIVERED
        else:
            state = (ItemState.WITHDRAWN if withdrawn else ItemState.LATE if d.due_at <= as_of
                     else ItemState.UPCOMING)
        deliverables.append(TimelineItem("livrable", d.key, d.title, d.due_at, None, delivered, state,
                                         withdrawn_at=withdrawn))
    if kickoff is None:  # the schedule is set at the kick-off: before it, there is none
        phases, milestones, sessions, deliverables = [], [], [], []
    elapsed = 0
    if kickoff and pilot.ends_at:
        span = (pilot.ends_at - kickoff).total_seconds()
        elapsed = max(0, min(100, round(100 * (as_of - kickoff).total_seconds() / span)))
    progress = Progress(
        pilot=pilot.name, status=status, kickoff_at=kickoff, ends_at=pilot.ends_at if kickoff else None,
        elapsed_percent=elapsed,
        current_phase=next((p.title for p in phases if p.state == ItemState.IN_PROGRESS), None),
        phases_done=sum(1 for p in phases if p.state == ItemState.DONE), phases_total=len(phases),
        milestones_reached=sum(1 for m in milestones if m.done_at), milestones_total=len(milestones),
        sessions_held=sum(1 for s in sessions if s.state == ItemState.HELD), sessions_total=len(sessions),
        attendance_present=sum(s.present for s in sessions),
        attendance_recorded=sum(s.present + s.absent for s in sessions),
        deliverables_on_time=sum(1 for d in deliverables if d.state == ItemState.DELIVERED),
        deliverables_late=sum(1 for d in deliverables if d.state == ItemState.DELIVERED_LATE),
        deliverables_overdue=sum(1 for d in deliverables if d.state == ItemState.LATE),
        deliverables_total=len(deliverables),
    )
    view = PilotView(id=pilot.id or 0, name=pilot.name, siren=year.application.lead_siren,
                     receipt=year.application.receipt_number, rank=pilot.rank, status=status,
                     selected_at=pilot.selected_at, kickoff_at=kickoff, ends_at=pilot.ends_at, finished_at=finished,
                     signatures=signatures, phases=phases, milestones=milestones, sessions=sessions,
                     deliverables=deliverables, progress=progress, as_of=as_of)
    charter = ctx.definition.accompaniment.charter
    if view.status == PilotStatus.CHARTER_PENDING:
        view.missing_parties = sorted(set(charter.parties) - {s.party for s in view.signatures})
        view.sign_by = pilot.sign_by or charter.sign_by
    return view


@dataclass(frozen=True)
class AttendanceFact:
    pilot: str
    siren: str
    session_key: str
    session_title: str
    starts_at: datetime
    person: str
    organisation: str
    present: bool
    recorded_at: datetime


def attendance_at(ctx: ProgrammeContext, as_of: datetime, views: list[PilotView]) -> list[AttendanceFact]:
    facts = []
    for view in views:
        rows = ctx.session.exec(select(TrainingSession, Attendance)
                                .join(Attendance, col(Attendance.session_id) == col(TrainingSession.id))
                                .where(TrainingSession.pilot_id == view.id, Attendance.recorded_at <= as_of)
                                .order_by(col(TrainingSession.starts_at), col(Attendance.person))).all()
        facts += [AttendanceFact(view.name, view.siren, s.key, s.title, s.starts_at, a.person, a.organisation,
                                 a.present, a.recorded_at) for s, a in rows]
    return facts


# --------------------------------------------------------------------------- notices and audit


@dataclass(frozen=True)
class NoticeFact:
    id: int
    kind: str
    recipient_email: str
    recipient_name: str
    subject: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    error: str

    @property
    def kind_label(self) -> str:
        return notice_label(self.kind)

    @property
    def status_label(self) -> str:
        return label(self.status)


def notice_label(kind: str) -> str:
    try:
        return NOTICE_LABELS[NoticeKind(kind)]
    except ValueError:
        return kind


def notices_at(session: Session, ctx: ProgrammeContext, as_of: datetime) -> list[NoticeFact]:
    """Notices queued by `as_of`, with their status at that instant (sent, waiting or given up)."""
    rows = session.exec(select(Notice).where(Notice.programme_id == ctx.programme_id, Notice.created_at <= as_of)
                        .order_by(col(Notice.created_at), col(Notice.id))).all()
    facts = []
    for n in rows:
        sent = _at(n.sent_at, as_of)
        status = (NoticeStatus.SENT if sent else NoticeStatus.DEAD if n.status == NoticeStatus.DEAD
                  else NoticeStatus.PENDING)
        facts.append(NoticeFact(n.id or 0, n.kind, n.recipient_email, n.recipient_name, n.subject, status.value,
                                n.attempts,
                                n.created_at, sent, (n.last_error or "") if status == NoticeStatus.DEAD else ""))
    return facts


def audit_at(session: Session, ctx: ProgrammeContext, as_of: datetime) -> list[AuditEntry]:
    return list(session.exec(select(AuditEntry).where(AuditEntry.programme_id == ctx.programme_id,
                                                      AuditEntry.at <= as_of)
                             .order_by(col(AuditEntry.at), col(AuditEntry.id))).all())


# --------------------------------------------------------------------------- the whole report


def stage_at(programme: Programme, as_of: datetime) -> str:
    """The programme's state code at `as_of`, from the instants it changed state."""
    for state, when in ((ProgrammeState.FINISHED, programme.finished_at),
                        (ProgrammeState.PILOTS_SELECTED, programme.selected_at),
                        (ProgrammeState.CALL_CLOSED, programme.call_closed_at),
                        (ProgrammeState.CALL_OPEN, programme.launched_at)):
        if when is not None and when <= as_of:
            return state.value
    return ProgrammeState.READY.value


@dataclass
class ReportData:
    as_of: datetime
    slug: str
    title: str
    stage: str
    launch: datetime
    deadline: datetime
    applications: list[ApplicationFact]
    funnel: Funnel
    jury: JuryView
    pilots: list[PilotView]
    notices: list[NoticeFact]
    audit_head: Head
    """The audit chain's head at `as_of` (`models.audit_chain.head_at`): kept by whoever reads the
    report, it anchors the log outside the database."""

    @property
    def stage_label(self) -> str:
        return STATE_LABELS.get(self.stage, self.stage)

    @property
    def sent(self) -> list[NoticeFact]:
        return [n for n in self.notices if n.status == NoticeStatus.SENT]

    @property
    def dead(self) -> list[NoticeFact]:
        return [n for n in self.notices if n.status == NoticeStatus.DEAD]

    @property
    def pending(self) -> list[NoticeFact]:
        return [n for n in self.notices if n.status == NoticeStatus.PENDING]


def report_data(ctx: ProgrammeContext, as_of: datetime, pilot_ref: str | None = None) -> ReportData:
    """Everything the HTML report shows, true at `as_of`."""
    session = ctx.session
    if pilot_ref:
        find_pilot(ctx, pilot_ref)  # an unknown pilot is refused in French
    applications = applications_at(session, ctx, as_of)
    scores = scores_at(session, ctx, as_of, applications)
    return ReportData(
        as_of=as_of, slug=ctx.programme.slug, title=ctx.programme.title, stage=stage_at(ctx.programme, as_of),
        launch=ctx.definition.call.launch, deadline=ctx.definition.call.deadline,
        applications=applications, funnel=funnel(applications, refused_at_door(session, ctx, as_of)),
        jury=jury_view(ctx, as_of, applications, scores), pilots=pilot_views(ctx, as_of, pilot_ref),
        notices=notices_at(session, ctx, as_of), audit_head=head_at(session, ctx.programme_id, as_of))
