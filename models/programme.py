"""The programme as data: `programmes/<slug>.yaml`, validated here. Dates are Paris time."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from itertools import combinations
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    model_validator,
)

from models.clock import InstantError, WorkingCalendar, add_paris, paris, parse_duration, utc, working_calendar
from models.notices import NoticeKind


def _paris_instant(value: datetime) -> datetime:
    try:
        return utc(value)
    except InstantError as exc:
        raise ValueError(str(exc)) from None


def _duration(value: str) -> str:
    try:
        parse_duration(value)
    except InstantError as exc:
        raise ValueError(str(exc)) from None
    return value


Instant = Annotated[datetime, AfterValidator(_paris_instant)]
"""A date-time written in Paris wall-clock time (or with an explicit offset), held in UTC."""
Duration = Annotated[str, AfterValidator(_duration)]
Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=60)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StaffMember(Strict):
    """Someone of the Cerdd or the consultancy, named in the programme file."""

    name: str = Field(min_length=1)
    role: str = ""
    email: EmailStr
    phone: str = ""


class Organiser(Strict):
    name: str
    full_name: str
    phone: str
    manager: EmailStr = Field(description="Receives the programme's reports and escalations.")
    signatory: str
    contacts: list[StaffMember] = Field(min_length=1)

    @model_validator(mode="after")
    def _manager_is_a_contact(self) -> Organiser:
        if self.manager not in {c.email for c in self.contacts}:
            raise ValueError(f"le responsable {self.manager} doit figurer parmi les contacts")
        return self


class Consultancy(Strict):
    name: str
    assumption: str = ""
    signatory: str
    contacts: list[StaffMember] = Field(min_length=1)


class Territory(Strict):
    departements: list[str] = Field(min_length=1)
    register_file: str = Field(description="Path of the EPCI register, relative to this file.")


class Call(Strict):
    launch: Instant
    deadline: Instant
    territory: Territory
    inadmissible_reason: str = Field(min_length=1)
    reference: str = ""


WorkingDaysOffset = Annotated[int, Field(ge=1, le=60)]


class JuryMember(Strict):
    body: str
    juror: str
    email: EmailStr


class Criterion(Strict):
    key: Key
    label: str
    weight: int = Field(ge=1, le=10)


class PilotCount(Strict):
    min: int = Field(ge=1)
    max: int = Field(ge=1)


class Jury(Strict):
    meeting: Instant
    place: str = Field(default="", description="Where the jury meets (named in the convocation).")
    assumption: str = ""
    members: list[JuryMember] = Field(min_length=1)
    scale_max: int = Field(default=5, ge=1, le=100)
    criteria: list[Criterion] = Field(min_length=1)
    threshold: float = Field(ge=0)
    pilots: PilotCount
    decision: Literal["automatique", "secretariat"] = Field(
        default="automatique", description="secretariat: at the meeting the ranking is only a proposal, which the "
        "jury's secretary confirms or departs from (with a rationale); automatique: the ranking decides.")

    @model_validator(mode="after")
    def _coherent(self) -> Jury:
        if self.pilots.min > self.pilots.max:
            raise ValueError("pilots.min ne peut pas dépasser pilots.max")
        if self.threshold > self.scale_max:
            raise ValueError(f"le seuil {self.threshold} dépasse la note maximale {self.scale_max}")
        _unique([c.key for c in self.criteria], "critère")
        return self


class Charter(Strict):
    title: str
    sign_by: Instant
    extension: WorkingDaysOffset = Field(
        default=10, description="Working days a place offered after a withdrawal leaves to sign the charter.")
    parties: list[Literal["territoire", "cerdd", "prestataire"]] = Field(
        min_length=1, description="Who signs: the call names the territory, the Cerdd and its consultancy.")


class Phase(Strict):
    key: Key
    title: str
    start: Duration
    end: Duration
    aim: str = ""


class Requirements(Strict):
    """The facts that make a milestone reached: deliverables accepted by the Cerdd, sessions held
    (attendance recorded), phases done."""

    deliverables_accepted: list[Key] = Field(default_factory=list)
    sessions_held: list[Key] = Field(default_factory=list)
    phases_done: list[Key] = Field(default_factory=list)

    def empty(self) -> bool:
        return not (self.deliverables_accepted or self.sessions_held or self.phases_done)


class MilestoneDef(Strict):
    key: Key
    title: str
    at: Duration
    requires: Requirements = Requirements()


class SessionDef(Strict):
    """A session laid out for each pilot, `at` after its kick-off (first working day, `start_time`);
    each pilot after the first is moved by `stagger` more (the consultancy runs them all), and a
    slot already taken at the same place moves it to the next working day. `place` may name the
    pilot with `{territoire}` (« Siège de {territoire} » → « Siège de la CU d'Arras »)."""

    key: Key
    title: str
    at: Duration
    start_time: time = time(9, 30)
    hours: float = Field(gt=0, le=12)
    place: str = Field(min_length=1)
    audience: str = ""
    stagger: Duration | None = None

    @model_validator(mode="after")
    def _known_placeholders(self) -> SessionDef:
        try:
            self.place.format(territoire="x")
        except (KeyError, IndexError, ValueError):
            raise ValueError(f"lieu « {self.place} » : seul {{territoire}} peut y figurer") from None
        return self


class TaskDef(Strict):
    key: Key
    title: str
    due: Duration
    due_time: time = Field(default=time(18, 0), description="Deadline hour on the due day (a working day).")


class Accompaniment(Strict):
    kickoff: Instant
    assumption: str = ""
    duration: Duration
    charter: Charter
    phases: list[Phase] = Field(min_length=1)
    milestones: list[MilestoneDef] = Field(min_length=1)
    sessions: list[SessionDef] = Field(default_factory=list)
    tasks: list[TaskDef] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_keys(self) -> Accompaniment:
        _unique([p.key for p in self.phases], "phase")
        _unique([m.key for m in self.milestones], "jalon")
        _unique([s.key for s in self.sessions], "session")
        _unique([t.key for t in self.tasks], "tâche")
        known = {"deliverables_accepted": {t.key for t in self.tasks},
                 "sessions_held": {s.key for s in self.sessions}, "phases_done": {p.key for p in self.phases}}
        for milestone in self.milestones:
            for field_name, keys in known.items():
                for key in getattr(milestone.requires, field_name):
                    if key not in keys:
                        raise ValueError(f"jalon {milestone.key} : requires.{field_name} nomme « {key} », "
                                         "qui n'existe pas")
        self._sessions_apart()
        return self

    def _sessions_apart(self) -> None:
        """No two sessions of one pilot overlap at the same place (from the nominal kick-off)."""
        slots = []
        for item in self.sessions:
            day = paris(add_paris(self.kickoff, parse_duration(item.at))).date()
            start = datetime.combine(day, item.start_time)
            slots.append((item, start, start + timedelta(hours=item.hours)))
        for (a, a_start, a_end), (b, b_start, b_end) in combinations(slots, 2):
            if a.place == b.place and a_start < b_end and b_start < a_end:
                raise ValueError(f"les sessions {a.key} et {b.key} se chevauchent au même lieu ({a.place})")


WorkingDays = Annotated[int, Field(ge=0, le=60)]


class ReminderRule(Strict):
    """Working-day offsets before and after an anchor date; optionally repeated, capped in number."""

    before: list[WorkingDays] = Field(default_factory=list)
    after: list[WorkingDays] = Field(default_factory=list)
    repeat_every: WorkingDays | None = Field(default=None, ge=1)
    max_count: int | None = Field(default=None, ge=1, le=50)

    @model_validator(mode="after")
    def _bounded(self) -> ReminderRule:
        if self.repeat_every is not None and self.max_count is None:
            raise ValueError("repeat_every exige max_count : une relance répétée doit avoir un nombre maximal")
        return self


class SessionRule(Strict):
    invitation: WorkingDays
    before: list[WorkingDays] = Field(default_factory=list)


class CalendarDef(Strict):
    country: str = "FR"
    send_at: time = time(9, 0)
    sending_hours: tuple[time, time] = (time(8, 0), time(18, 0))

    @model_validator(mode="after")
    def _send_within_hours(self) -> CalendarDef:
        start, end = self.sending_hours
        if not start <= self.send_at < end:
            raise ValueError(f"send_at ({self.send_at:%H:%M}) doit tomber dans sending_hours "
                             f"({start:%H:%M}–{end:%H:%M})")
        return self


class Reminders(Strict):
    calendar: CalendarDef = CalendarDef()
    deadline: ReminderRule = ReminderRule(before=[5, 2])
    jury: ReminderRule = ReminderRule(before=[3, 1])
    charter: ReminderRule
    session: SessionRule
    task: ReminderRule
    escalate_to_organiser: bool = True
    digest: list[str] = Field(
        default_factory=lambda: ["rappel_date_limite", "relance_charte", "rappel_session", "rappel_tache",
                                 "tache_en_retard"],
        description="Notice kinds that a person receives grouped, one message per day.")

    @model_validator(mode="after")
    def _known_kinds(self) -> Reminders:
        unknown = sorted(set(self.digest) - {k.value for k in NoticeKind})
        if unknown:
            raise ValueError(f"types d'avis inconnus dans digest : {', '.join(unknown)}")
        if self.session.before and self.session.invitation <= max(self.session.before):
            raise ValueError("session.invitation doit précéder (en jours ouvrés) chaque rappel de session.before")
        return self


class ProgrammeDefinition(Strict):
    slug: Key
    title: str
    organiser: Organiser
    consultancy: Consultancy
    call: Call
    jury: Jury
    accompaniment: Accompaniment
    reminders: Reminders
    templates_dir: str | None = Field(
        default=None, description="Folder of notice templates overriding the defaults, relative to this file.")

    @model_validator(mode="after")
    def _dates_in_order(self) -> ProgrammeDefinition:
        steps = [
            ("call.launch", self.call.launch),
            ("call.deadline", self.call.deadline),
            ("jury.meeting", self.jury.meeting),
            ("accompaniment.charter.sign_by", self.accompaniment.charter.sign_by),
            ("accompaniment.kickoff", self.accompaniment.kickoff),
        ]
        for (name_a, a), (name_b, b) in zip(steps, steps[1:], strict=False):
            if not a < b:
                raise ValueError(f"{name_a} doit précéder {name_b}")
        return self

    def calendar(self) -> WorkingCalendar:
        """The working-day calendar of this programme (shared by every programme with the same rules)."""
        calendar = self.reminders.calendar
        return working_calendar(calendar.country, calendar.send_at, calendar.sending_hours)

    def organiser_manager(self) -> StaffMember:
        return next(c for c in self.organiser.contacts if c.email == self.organiser.manager)


def _unique(keys: list[str], what: str) -> None:
    seen = set()
    for key in keys:
        if key in seen:
            raise ValueError(f"clé de {what} en double : {key}")
        seen.add(key)
