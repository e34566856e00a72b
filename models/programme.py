"""The programme as data: `programmes/<slug>.yaml`, validated here. Dates are Paris time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import combinations
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StrictBool,
    ValidationError,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from models.clock import (
    InstantError,
    WorkingCalendar,
    add_paris,
    check_country,
    check_year,
    format_duration,
    format_number,
    format_paris,
    paris,
    parse_duration,
    utc,
    working_calendar,
)
from models.notices import RENAMED_KINDS, NoticeKind
from models.text import multi_line, single_line


def _written(value: object) -> object:
    """Dates and hours are written as text (ISO 8601), never as a number of seconds."""
    if not isinstance(value, str | datetime | time):
        raise ValueError("doit être écrite comme un texte ISO 8601 (exemple : 2015-04-02T09:00)")
    return value


def _paris_instant(value: datetime) -> datetime:
    try:
        check_year(value)
        return utc(value)
    except InstantError as exc:
        raise ValueError(str(exc)) from None


def _duration(value: str) -> str:
    try:
        parse_duration(value)
    except InstantError as exc:
        raise ValueError(str(exc)) from None
    return value


Instant = Annotated[datetime, BeforeValidator(_written), AfterValidator(_paris_instant)]
"""A date-time written in Paris wall-clock time (or with an explicit offset), held in UTC."""
Duration = Annotated[str, AfterValidator(_duration)]
Key = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=60)]
Line = Annotated[str, Field(max_length=300), BeforeValidator(single_line)]
"""One line of text: a name, a title, a role."""
Name = Annotated[str, Field(min_length=1, max_length=300), BeforeValidator(single_line)]
Paragraph = Annotated[str, Field(max_length=5000), BeforeValidator(multi_line)]
Hour = Annotated[time, BeforeValidator(_written)]
Count = Annotated[int, Field(strict=True)]
"""Numbers are written as numbers: no `true`, no `"3"`."""
Number = Annotated[float, Field(strict=True)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StaffMember(Strict):
    """Someone of the Cerdd or the consultancy, named in the programme file."""

    name: Name
    role: Line = ""
    email: EmailStr
    phone: Line = ""


class Organiser(Strict):
    name: Name
    full_name: Name
    phone: Line
    manager: EmailStr = Field(description="Receives the programme's reports and escalations.")
    signatory: Name
    contacts: list[StaffMember] = Field(min_length=1)

    @model_validator(mode="after")
    def _manager_is_a_contact(self) -> Organiser:
        _unique([c.email.lower() for c in self.contacts], "contact (adresse)")
        if self.manager not in {c.email for c in self.contacts}:
            raise ValueError(f"le responsable {self.manager} doit figurer parmi les contacts")
        return self


class Consultancy(Strict):
    name: Name
    assumption: Paragraph = ""
    signatory: Name
    contacts: list[StaffMember] = Field(min_length=1)


class Territory(Strict):
    departements: list[Annotated[str, Field(pattern=r"^[0-9][0-9AB]$")]] = Field(min_length=1)
    register_file: Name = Field(description="Path of the EPCI register, relative to this file.")


Item = Annotated[str, Field(min_length=1, max_length=1000), BeforeValidator(single_line)]
"""One item of a list on the call's page: a sentence."""


class Call(Strict):
    """The call for applications: its dates, who may apply, and the texts its public page shows
    (`/appel/<slug>`; optional, so that a programme file without them stays valid)."""

    launch: Instant
    deadline: Instant
    territory: Territory
    inadmissible_reason: Paragraph = Field(min_length=1)
    reference: Line = ""
    presentation: list[Paragraph] = Field(default_factory=list, max_length=30,
                                          description="The call's text, paragraph by paragraph.")
    offer: list[Item] = Field(default_factory=list, max_length=30, description="What the accompaniment offers.")
    who_may_apply: list[Paragraph] = Field(default_factory=list, max_length=30)
    good_application: list[Item] = Field(default_factory=list, max_length=30,
                                         description="What a good application is, item by item.")
    commitments: list[Item] = Field(default_factory=list, max_length=30,
                                    description="What applying commits the territory to.")
    how_to_apply: list[Paragraph] = Field(default_factory=list, max_length=30)
    selection: Paragraph = ""
    apply_to: EmailStr | None = Field(default=None, description="The call's mailbox: where the annex is mailed "
                                      "(read by `releve-candidatures`); the annex and the call's page name it.")


WorkingDaysOffset = Annotated[int, Field(ge=1, le=60)]


class JuryMember(Strict):
    body: Name
    juror: Name
    email: EmailStr


class Criterion(Strict):
    key: Key
    label: Name
    weight: Count = Field(ge=1, le=10)


class PilotCount(Strict):
    """How many pilots the jury retains; up to 10,000 for a national programme (issue 10)."""

    min: Count = Field(ge=1, le=10_000)
    max: Count = Field(ge=1, le=10_000)


class Jury(Strict):
    meeting: Instant
    place: Paragraph = Field(default="", description="Where the jury meets (named in the convocation).")
    assumption: Paragraph = ""
    members: list[JuryMember] = Field(min_length=1)
    scale_max: Count = Field(default=5, ge=1, le=100)
    criteria: list[Criterion] = Field(min_length=1)
    threshold: Number = Field(ge=0)
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
        _unique([m.juror for m in self.members], "membre du jury (nom)")
        _unique([m.email.lower() for m in self.members], "membre du jury (adresse)")
        return self


class Charter(Strict):
    title: Name
    sign_by: Instant
    extension: WorkingDaysOffset = Field(
        default=10, description="Working days a place offered after a withdrawal leaves to sign the charter.")
    parties: list[Literal["territoire", "cerdd", "prestataire"]] = Field(
        min_length=1, description="Who signs: the call names the territory, the Cerdd and its consultancy.")


class Phase(Strict):
    key: Key
    title: Name
    start: Duration
    end: Duration
    aim: Paragraph = ""


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
    title: Name
    at: Duration
    requires: Requirements = Requirements()


class SessionDef(Strict):
    """A session laid out for each pilot, `at` after its kick-off (first working day, `start_time`);
    each pilot after the first is moved by `stagger` more (the consultancy runs them all), and a
    slot already taken at the same place moves it to the next working day. `place` may name the
    pilot with `{territoire}` (« Siège de {territoire} » → « Siège de la CU d'Arras »)."""

    key: Key
    title: Name
    at: Duration
    start_time: Hour = time(9, 30)
    hours: Number = Field(gt=0, le=12)
    place: Name
    audience: Paragraph = ""
    stagger: Duration | None = None

    @model_validator(mode="after")
    def _known_placeholders(self) -> SessionDef:
        try:
            self.place.format(territoire="x")
        except (KeyError, IndexError, ValueError):
            raise ValueError(f"lieu « {self.place} » : seul {{territoire}} peut y figurer") from None
        return self


RENAMED_KEYS: dict[str, dict[str, str]] = {
    "accompaniment": {"tasks": "deliverables"},
    "reminders": {"task": "deliverable"},
}
"""Keys of a programme file renamed since (section → old key → new key): an old key still loads,
with a warning (`renamed_words`); a section holding both the old and the new key is refused."""


def _renamed_keys(section: str, data: object) -> object:
    """`data` (a section of a programme file, before validation) with its old keys under their new
    names; ValueError, in French, when both are present."""
    if not isinstance(data, dict):
        return data
    renamed = dict(data)
    for old, new in RENAMED_KEYS[section].items():
        if old in renamed:
            if new in renamed:
                raise ValueError(f"« {old} » et « {new} » ne peuvent figurer ensemble : « {old} » est "
                                 f"l'ancien nom de « {new} », gardez seulement « {new} »")
            renamed[new] = renamed.pop(old)
    return renamed


def renamed_words(raw: object) -> list[str]:
    """The French warnings a programme file (parsed, not yet validated) deserves for the words of
    earlier versions it still uses: renamed keys (`RENAMED_KEYS`) and notice kinds (`RENAMED_KINDS`)."""
    if not isinstance(raw, dict):
        return []
    warnings = []
    for section, keys in RENAMED_KEYS.items():
        data = raw.get(section)
        for old, new in keys.items():
            if isinstance(data, dict) and old in data and new not in data:
                warnings.append(f"la clé {section}.{old} est dépréciée : renommez-la {section}.{new} "
                                "(l'ancien nom sera refusé par une version future)")
    reminders = raw.get("reminders")
    digest = reminders.get("digest") if isinstance(reminders, dict) else None
    for kind in digest if isinstance(digest, list) else []:
        if isinstance(kind, str) and kind in RENAMED_KINDS:
            warnings.append(f"reminders.digest : le type d'avis « {kind} » est déprécié, renommez-le "
                            f"« {RENAMED_KINDS[kind].value} »")
    return warnings


RENAMED_FIGURES: dict[str, str] = {f"avancement.tasks_{end}": f"avancement.deliverables_{end}"
                                   for end in ("on_time", "late", "overdue", "total")}
"""Progress figures a programme's template overrides may quote (`jalon_atteint`, `fin_accompagnement`),
under their earlier names: rewritten when the programme is loaded (`renamed_templates`), as migration
0013 rewrote the stored copies."""


def template_name(name: str) -> str:
    """Today's name of a template override's file: `rappel_tache.txt` is `rappel_livrable.txt`
    (`RENAMED_KINDS`); any other name stays."""
    stem, dot, extension = name.partition(".")
    return RENAMED_KINDS[stem].value + dot + extension if stem in RENAMED_KINDS else name


def renamed_templates(templates: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """A programme's template overrides (file name → source) in today's words: a file named after a
    notice kind's earlier name takes today's (`template_name`), the progress figures quoted under
    their earlier names are rewritten (`RENAMED_FIGURES`); with the French warnings each deserves.
    ValueError, in French, when the folder holds one template under both names."""
    renamed: dict[str, str] = {}
    warnings: list[str] = []
    for name, source in templates.items():
        new = template_name(name)
        if new != name:
            if new in templates:
                raise ValueError(f"{name} et {new} ne peuvent figurer ensemble : « {name.partition('.')[0]} » est "
                                 f"l'ancien nom de « {new.partition('.')[0]} », gardez seulement {new}")
            warnings.append(f"le modèle {name} porte l'ancien nom du type d'avis « {name.partition('.')[0]} », "
                            f"renommez-le {new}")
        for old, figure in RENAMED_FIGURES.items():
            if old in source:
                warnings.append(f"le modèle {name} cite « {old} », déprécié : écrivez « {figure} »")
                source = source.replace(old, figure)
        renamed[new] = source
    return renamed, warnings


class DeliverableDef(Strict):
    key: Key
    title: Name
    due: Duration
    due_time: Hour = Field(default=time(18, 0), description="Deadline hour on the due day (a working day).")


class Accompaniment(Strict):
    kickoff: Instant
    assumption: Paragraph = ""
    duration: Duration
    charter: Charter
    phases: list[Phase] = Field(min_length=1)
    milestones: list[MilestoneDef] = Field(min_length=1)
    sessions: list[SessionDef] = Field(default_factory=list)
    deliverables: list[DeliverableDef] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: object) -> object:
        return _renamed_keys("accompaniment", data)

    @model_validator(mode="after")
    def _unique_keys(self) -> Accompaniment:
        _unique([p.key for p in self.phases], "phase")
        _unique([m.key for m in self.milestones], "jalon")
        _unique([s.key for s in self.sessions], "session")
        _unique([t.key for t in self.deliverables], "livrable")
        problems = self._unknown_requirements() + self._outside_the_year() + self._sessions_apart()
        if problems:  # every problem at once, each at its place in the file
            raise ValidationError.from_exception_data("Accompaniment", [
                InitErrorDetails(type=PydanticCustomError("value_error", "{error}", {"error": message}),
                                 loc=loc, input=None) for loc, message in problems])
        return self

    def _unknown_requirements(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Milestones requiring a deliverable, a session or a phase the programme does not have."""
        known = {"deliverables_accepted": {t.key for t in self.deliverables},
                 "sessions_held": {s.key for s in self.sessions}, "phases_done": {p.key for p in self.phases}}
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for index, milestone in enumerate(self.milestones):
            for field_name, keys in known.items():
                for key in getattr(milestone.requires, field_name):
                    if key not in keys:
                        problems.append((("milestones", index, "requires", field_name),
                                         f"jalon {milestone.key} : requires.{field_name} nomme « {key} », "
                                         "qui n'existe pas"))
        return problems

    def _outside_the_year(self) -> list[tuple[tuple[str | int, ...], str]]:
        """Items the file places past the accompaniment's `duration` (from the nominal kick-off,
        compared by Paris date): a phase ending after it or before it starts, a milestone, a session
        or a deliverable due after it. Offsets are never negative (`parse_duration`), so nothing
        falls before the kick-off."""
        def day(offset: str) -> date:
            return paris(add_paris(self.kickoff, parse_duration(offset))).date()

        end = day(self.duration)
        told = (f"après la fin de l'accompagnement ({format_duration(self.duration)} : le "
                f"{format_paris(add_paris(self.kickoff, parse_duration(self.duration)), with_time=False)})")
        problems: list[tuple[tuple[str | int, ...], str]] = []
        for index, phase in enumerate(self.phases):
            if day(phase.end) < day(phase.start):
                problems.append((("phases", index, "end"), f"la phase {phase.key} finirait avant de commencer "
                                 f"({phase.end} avant {phase.start})"))
            elif day(phase.end) > end:
                problems.append((("phases", index, "end"), f"la phase {phase.key} finirait {told}"))
        for index, milestone in enumerate(self.milestones):
            if day(milestone.at) > end:
                problems.append((("milestones", index, "at"), f"le jalon {milestone.key} tomberait {told}"))
        for index, training_session in enumerate(self.sessions):
            if day(training_session.at) > end:
                problems.append((("sessions", index, "at"), f"la session {training_session.key} aurait lieu {told}"))
        for index, deliverable in enumerate(self.deliverables):
            if day(deliverable.due) > end:
                problems.append((("deliverables", index, "due"), f"le livrable {deliverable.key} serait dû {told}"))
        return problems

    def _sessions_apart(self) -> list[tuple[tuple[str | int, ...], str]]:
        """No two sessions of one pilot overlap at the same place (from the nominal kick-off)."""
        slots = []
        for index, training_session in enumerate(self.sessions):
            day = paris(add_paris(self.kickoff, parse_duration(training_session.at))).date()
            start = datetime.combine(day, training_session.start_time)
            slots.append((index, training_session, start, start + timedelta(hours=training_session.hours)))
        return [(("sessions", j, "at"), f"les sessions {a.key} et {b.key} se chevauchent au même lieu ({a.place})")
                for (_, a, a_start, a_end), (j, b, b_start, b_end) in combinations(slots, 2)
                if a.place == b.place and a_start < b_end and b_start < a_end]


WorkingDays = Annotated[int, Field(strict=True, ge=0, le=60)]


class ReminderRule(Strict):
    """Working-day offsets before and after an anchor date; optionally repeated, capped in number."""

    before: list[WorkingDays] = Field(default_factory=list)
    after: list[WorkingDays] = Field(default_factory=list)
    repeat_every: WorkingDays | None = Field(default=None, ge=1)
    max_count: Count | None = Field(default=None, ge=1, le=50)

    @model_validator(mode="after")
    def _bounded(self) -> ReminderRule:
        if self.repeat_every is not None and self.max_count is None:
            raise ValueError("repeat_every exige max_count : une relance répétée doit avoir un nombre maximal")
        return self


class SessionRule(Strict):
    invitation: WorkingDays
    before: list[WorkingDays] = Field(default_factory=list)


class CalendarDef(Strict):
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$"), AfterValidator(check_country)] = "FR"
    send_at: Hour = time(9, 0)
    sending_hours: tuple[Hour, Hour] = (time(8, 0), time(18, 0))

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
    deliverable: ReminderRule
    escalate_to_organiser: StrictBool = True
    digest: list[Line] = Field(
        default_factory=lambda: ["rappel_date_limite", "relance_charte", "rappel_session", "rappel_livrable",
                                 "livrable_en_retard"],
        description="Notice kinds that a person receives grouped, one message per day.")

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: object) -> object:
        data = _renamed_keys("reminders", data)
        if isinstance(data, dict) and isinstance(data.get("digest"), list):
            data["digest"] = [RENAMED_KINDS[k].value if isinstance(k, str) and k in RENAMED_KINDS else k
                              for k in data["digest"]]
        return data

    @model_validator(mode="after")
    def _known_kinds(self) -> Reminders:
        unknown = sorted(set(self.digest) - {k.value for k in NoticeKind})
        if unknown:
            raise ValueError(f"types d'avis inconnus dans digest : {', '.join(unknown)}")
        if self.session.before and self.session.invitation <= max(self.session.before):
            raise ValueError("session.invitation doit précéder (en jours ouvrés) chaque rappel de session.before")
        return self


class Retention(Strict):
    """How long personal data is kept once its purpose is over (RGPD art. 5-1-e), ISO 8601 durations
    counted from the event each key names; the purge (`models.retention`, `models.purge`) erases what
    is past them. The register of processing quotes these keys."""

    applications_not_selected: Duration = Field(default="P24M", description=(
        "An application not retained (not admissible, not selected, withdrawn) and an EPCI that announced "
        "one without applying: after the jury's decision."))
    pilots: Duration = Field(default="P60M", description="A pilot's data: after the pilot's end (or withdrawal).")
    notices: Duration = Field(default="P12M", description="A notice's body: after it was sent (or expired, given up).")
    drafts_not_deposited: Duration = Field(default="P12M", description="A draft never deposited: after its last save.")
    mailbox_refused: Duration = Field(default="P24M", description=(
        "A message of the call's mailbox that became no application (late, answered, à revoir): after it was read."))


class ProgrammeDefinition(Strict):
    slug: Key
    title: Name
    organiser: Organiser
    consultancy: Consultancy
    call: Call
    jury: Jury
    accompaniment: Accompaniment
    reminders: Reminders
    retention: Retention = Field(default_factory=Retention)
    templates_dir: Name | None = Field(
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


def layout_changes(before: ProgrammeDefinition, after: ProgrammeDefinition) -> list[str]:
    """What `after` moves in a pilot's year compared with `before`, one French line per item: a
    phase, milestone, session or deliverable added, removed, or with another offset, hour, length,
    place or stagger. Titles, aims, audiences and the reminder rules move no one's dates: not
    listed. Empty when the layout is the same (`models.context.install_programme` refuses to reload
    a programme whose pilots are laid out otherwise: issue 26)."""
    old, new = _layout(before), _layout(after)
    changes = []
    for item in [*old, *(item for item in new if item not in old)]:
        noun, key = item
        if item not in new:
            changes.append(f"{noun} {key} : retiré(e) du programme")
        elif item not in old:
            changes.append(f"{noun} {key} : ajouté(e) au programme")
        elif old[item] != new[item]:
            moved = [f"{name} {was} → {now}" for (name, was), (_, now) in zip(old[item], new[item], strict=True)
                     if was != now]
            changes.append(f"{noun} {key} : {', '.join(moved)}")
    return changes


def _layout(definition: ProgrammeDefinition) -> dict[tuple[str, str], tuple[tuple[str, str], ...]]:
    """Each item of a pilot's year (noun, key) → the values that place it, as (field, text)."""
    accompaniment = definition.accompaniment
    layout: dict[tuple[str, str], tuple[tuple[str, str], ...]] = {}
    for phase in accompaniment.phases:
        layout["phase", phase.key] = (("start", phase.start), ("end", phase.end))
    for milestone in accompaniment.milestones:
        layout["jalon", milestone.key] = (("at", milestone.at),)
    for session in accompaniment.sessions:
        layout["session", session.key] = (("at", session.at), ("start_time", f"{session.start_time:%H:%M}"),
                                          ("hours", format_number(session.hours)), ("place", session.place),
                                          ("stagger", session.stagger or "—"))
    for deliverable in accompaniment.deliverables:
        layout["livrable", deliverable.key] = (("due", deliverable.due),
                                               ("due_time", f"{deliverable.due_time:%H:%M}"))
    return layout
