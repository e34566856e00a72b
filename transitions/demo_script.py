"""The demo's scripted cast (`demo/cerdd-2015.yaml`) and its timeline of actions.

Each action goes through the same domain functions as the CLI, in its own transaction, at the
instant the script gives (an application by its door, `demo_doors.py`: a file, online, or a mail
read by the call's mailbox at the next quarter hour, before that instant's tick); attendance sheets,
session changes, deliveries and reviews are placed once each pilot has started, relative to its own
sessions and due dates (and follow them when they move).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from functools import partial
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator
from rich.console import Console

from models import charter, deliverables, intents, jury, pilots, training
from models.clock import add_paris, format_paris, paris, parse_duration, utc
from models.context import load_ctx
from models.db import session_scope
from models.decision import DecisionForm, decide_from_form
from models.errors import Refused
from models.tables import Application, Pilot, PilotStatus, SessionStatus
from models.withdrawal import withdraw
from notifications.render import portal_linker, render_notice
from transitions import demo_doors
from transitions.demo_doors import Door
from transitions.intake import Submission as Received
from transitions.intake import read_application
from transitions.userfiles import load_model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Announcement(_Strict):
    at: datetime
    siren: str
    contact: str
    email: str


class Submission(_Strict):
    """An application, by its door (`demo_doors.Door`): recorded from its file by the Cerdd, deposited
    online (its draft started at `started`, by default at the deposit), or mailed with the filled annex
    (`at`: its arrival in the call's mailbox, read at the next quarter hour of office hours)."""

    at: datetime
    file: str
    door: Door = Door.FILE
    started: datetime | None = None

    @model_validator(mode="after")
    def _started_online(self) -> Submission:
        if self.started is not None and (self.door != Door.ONLINE or self.started >= self.at):
            raise ValueError("« started » ne vaut que pour une candidature en ligne, avant son dépôt")
        return self


class Sitting(jury.ScoreSheet):
    at: datetime


class Signature(_Strict):
    pilot: str
    party: str
    signatory: str
    at: datetime


class Decision(_Strict):
    """The jury secretary's answer to the decision form, as a person would give it."""

    at: datetime
    form: DecisionForm


class Attendee(_Strict):
    person: str
    organisation: str


class Cast(_Strict):
    people: list[Attendee]
    absent: dict[str, list[str]] = Field(default_factory=dict)


class Deliveries(_Strict):
    default_days: int
    late: dict[str, dict[str, int | None]] = Field(default_factory=dict)


class Withdrawal(_Strict):
    at: datetime
    pilot: str
    reason: str


class SessionChange(_Strict):
    pilot: str
    session: str
    days_before: int = Field(ge=1)
    reason: str
    move_by: str | None = None
    place: str | None = None
    cancel: bool = False


class Rework(_Strict):
    comment: str
    redeliver_days: int = Field(ge=1)


class Reviews(_Strict):
    default_days: int = Field(ge=0)
    returned: dict[str, dict[str, Rework]] = Field(default_factory=dict)


class DemoScript(_Strict):
    programme: str
    start: datetime
    call_address: str | None = None
    """Where the mailed applications are sent: the programme's `call.apply_to` unless given."""
    intents: list[Announcement] = Field(default_factory=list)
    submissions: list[Submission]
    scores: list[Sitting]
    decisions: list[Decision] = Field(default_factory=list)
    signatures: list[Signature]
    withdrawals: list[Withdrawal] = Field(default_factory=list)
    attendance: dict[str, Cast]
    session_changes: list[SessionChange] = Field(default_factory=list)
    deliveries: Deliveries
    reviews: Reviews = Reviews(default_days=1)


def load_script(path: Path) -> DemoScript:
    """Read and validate the replay's script (InvalidInput listing every problem)."""
    script, _ = load_model(path, DemoScript, "de démonstration", refusal=f"Script {path.name} refusé")
    return script


@dataclass(order=True)
class _Event:
    at: datetime
    order: int
    act: Callable[[datetime], None] = field(compare=False)


class Timeline:
    """The cast's actions in time order."""

    def __init__(self, url: str, script: DemoScript, base: Path, console: Console, maildir: Path) -> None:
        self.url, self.script, self.console, self.maildir = url, script, console, maildir
        self._readings: set[datetime] = set()
        self._queue: list[_Event] = []
        self._order = itertools.count()
        self._followed: set[int] = set()
        self._received = {s.file: read_application((base / s.file).resolve()) for s in script.submissions}
        for announcement in script.intents:
            self._add(announcement.at, partial(self._announce, announcement))
        for submission in script.submissions:
            received = self._received[submission.file]
            if submission.started is not None:
                self._add(submission.started, partial(self._start, received))
            self._add(submission.at, partial(self._submit, submission, received))
        for sitting in script.scores:
            self._add(sitting.at, partial(self._score, sitting))
        for decision in script.decisions:
            self._add(decision.at, partial(self._decide, decision))
        for signature in script.signatures:
            self._add(signature.at, partial(self._sign, signature))
        for withdrawal in script.withdrawals:
            self._add(withdrawal.at, partial(self._withdraw, withdrawal))
        self._returned: set[tuple[int | None, str]] = set()

    def next_at(self) -> datetime | None:
        return self._queue[0].at if self._queue else None

    def play(self, instant: datetime) -> None:
        """Carry out every action due at this instant."""
        while self._queue and self._queue[0].at == instant:
            event = heapq.heappop(self._queue)
            event.act(event.at)

    def follow_pilots(self) -> None:
        """Place the attendance sheets and deliveries of pilots that have just started."""
        with session_scope(self.url) as session:
            ctx = load_ctx(session, renderer=render_notice, linker=portal_linker())
            for pilot in pilots.pilots(ctx, PilotStatus.ACTIVE):
                if pilot.id in self._followed:
                    continue
                self._followed.add(pilot.id or 0)
                application = session.get(Application, pilot.application_id)
                assert application is not None
                siren = application.lead_siren
                cast = self.script.attendance.get(siren)
                if cast is not None:
                    for training_session in training.sessions_of(ctx, pilot):
                        self._add(training_session.ends_at + timedelta(hours=1),
                                  partial(self._attend, pilot.id, training_session.key, cast))
                for change in self.script.session_changes:
                    if change.pilot == siren:
                        training_session = training.find_session(ctx, pilot, change.session)
                        day = ctx.calendar.shift_working_days(paris(training_session.starts_at).date(),
                                                              -change.days_before)
                        self._add(utc(datetime.combine(day, time(10))), partial(self._change, pilot.id, change))
                late = self.script.deliveries.late.get(siren, {})
                for deliverable in deliverables.deliverables_of(ctx, pilot):
                    days = late.get(deliverable.key, self.script.deliveries.default_days)
                    if days is not None:
                        self._add(deliverable.due_at + timedelta(days=days), partial(self._deliver, pilot.id,
                                                                                     deliverable.key))

    def _add(self, at: datetime, act: Callable[[datetime], None]) -> None:
        heapq.heappush(self._queue, _Event(utc(at), next(self._order), act))

    def _announce(self, item: Announcement, at: datetime) -> None:
        with session_scope(self.url) as session:
            intents.declare(load_ctx(session, renderer=render_notice, linker=portal_linker()), siren=item.siren,
                            contact_name=item.contact, contact_email=item.email, at=at)

    def _say(self, at: datetime, text: str) -> None:
        self.console.print(f"  {format_paris(at)} : {text}", highlight=False, markup=False)

    def _start(self, received: Received, at: datetime) -> None:
        demo_doors.start_online(self.url, received, at)
        self._say(at, f"{received.form.collectivite_chef_de_file.nom} commence sa candidature en ligne "
                      f"(lien envoyé à {received.form.responsables_operationnels[0].courriel}).")

    def _call_address(self) -> str:
        """The call's mailbox: the script's `call_address`, or the programme's `call.apply_to`, or its manager."""
        if self.script.call_address:
            return self.script.call_address
        with session_scope(self.url) as session:
            definition = load_ctx(session).definition
            return definition.call.apply_to or definition.organiser.manager

    def _submit(self, item: Submission, received: Received, at: datetime) -> None:
        lead = received.form.collectivite_chef_de_file.nom
        if item.door == Door.MAIL:
            demo_doors.deliver_mail(self.maildir, demo_doors.application_mail(
                self.url, received, at, self._call_address()), at)
            self._say(at, f"courriel de {received.form.responsables_operationnels[0].courriel} (pour {lead}) "
                          f"arrivé à {self._call_address()}, formulaire .docx rempli joint.")
            reading = demo_doors.next_reading(at)
            if reading not in self._readings:  # after this delivery, before the tick at that instant
                self._readings.add(reading)
                self._add(reading, self._read_mailbox)
            return
        try:
            if item.door == Door.ONLINE:
                receipt, recorded = demo_doors.deposit_online(self.url, received, at)
                how = "déposée en ligne" if recorded else "déposée en ligne, identique à la précédente"
            else:
                receipt, how = demo_doors.record_file(self.url, received, at), "enregistrée par le Cerdd (fichier)"
        except Refused as exc:
            self.console.print(f"  [yellow]{format_paris(at)}[/] dépôt refusé : {exc.message}", highlight=False)
            return
        self._say(at, f"candidature de {lead} {how} : {receipt.receipt_number}, version {receipt.version}.")

    def _read_mailbox(self, at: datetime) -> None:
        self._readings.discard(at)
        for mail in demo_doors.read_box(self.url, self.maildir, at):
            became = (f"candidature {mail.receipt}, version {mail.version}" if mail.receipt
                      else demo_doors.OUTCOME_WORDS.get(mail.outcome, mail.outcome))
            self._say(at, f"boîte de l'appel relevée : courriel de {mail.sender} arrivé le "
                          f"{format_paris(mail.received_at)} → {became}.")

    def _score(self, sitting: Sitting, at: datetime) -> None:
        with session_scope(self.url) as session:
            jury.record_sheet(load_ctx(session, renderer=render_notice, linker=portal_linker()), sitting, at)

    def _decide(self, item: Decision, at: datetime) -> None:
        with session_scope(self.url) as session:
            decide_from_form(load_ctx(session, renderer=render_notice, linker=portal_linker()), item.form, at)

    def _sign(self, item: Signature, at: datetime) -> None:
        with session_scope(self.url) as session:
            ctx = load_ctx(session, renderer=render_notice, linker=portal_linker())
            charter.sign_charter(ctx, pilots.find_pilot(ctx, item.pilot), party=item.party,
                                signatory=item.signatory, at=at)

    def _withdraw(self, item: Withdrawal, at: datetime) -> None:
        with session_scope(self.url) as session:
            ctx = load_ctx(session, renderer=render_notice, linker=portal_linker())
            successor = withdraw(ctx, pilots.find_pilot(ctx, item.pilot), reason=item.reason, at=at)
            if successor is not None:
                self.console.print(f"  {format_paris(at)} : place offerte à {successor.name}.", highlight=False)

    def _change(self, pilot_id: int | None, change: SessionChange, at: datetime) -> None:
        with session_scope(self.url) as session:
            ctx = load_ctx(session, renderer=render_notice, linker=portal_linker())
            pilot = session.get(Pilot, pilot_id)
            assert pilot is not None
            training_session = training.find_session(ctx, pilot, change.session)
            if change.cancel:
                training.cancel(ctx, training_session, reason=change.reason, at=at)
            else:
                to = add_paris(training_session.starts_at, parse_duration(change.move_by or "P0D"))
                training.reschedule(ctx, training_session, to=to, place=change.place, reason=change.reason, at=at)

    def _attend(self, pilot_id: int | None, key: str, cast: Cast, at: datetime) -> None:
        with session_scope(self.url) as session:
            ctx = load_ctx(session, renderer=render_notice, linker=portal_linker())
            pilot = session.get(Pilot, pilot_id)
            assert pilot is not None
            training_session = training.find_session(ctx, pilot, key)
            if training_session.status == SessionStatus.CANCELLED:
                return
            if at < training_session.ends_at:  # the session was moved: the sheet follows it
                self._add(training_session.ends_at + timedelta(hours=1), partial(self._attend, pilot_id, key, cast))
                return
            absent = set(cast.absent.get(key, []))
            for person in cast.people:
                training.record_attendance(ctx, training_session, person=person.person,
                                           organisation=person.organisation, present=person.person not in absent, at=at)

    def _deliver(self, pilot_id: int | None, key: str, at: datetime) -> None:
        with session_scope(self.url) as session:
            ctx = load_ctx(session, renderer=render_notice, linker=portal_linker())
            pilot = session.get(Pilot, pilot_id)
            assert pilot is not None
            application = session.get(Application, pilot.application_id)
            assert application is not None
            siren = application.lead_siren
            if pilot.status != PilotStatus.ACTIVE:
                return
            deliverables.deliver(ctx, deliverables.find_deliverable(ctx, pilot, key), at=at, by="prestataire")
        day = ctx.calendar.next_working_day(paris(at).date() + timedelta(days=self.script.reviews.default_days))
        self._add(utc(datetime.combine(day, time(10))), partial(self._review, pilot_id, siren, key))

    def _review(self, pilot_id: int | None, siren: str, key: str, at: datetime) -> None:
        rework = self.script.reviews.returned.get(siren, {}).get(key)
        with session_scope(self.url) as session:
            ctx = load_ctx(session, renderer=render_notice, linker=portal_linker())
            pilot = session.get(Pilot, pilot_id)
            assert pilot is not None
            deliverable = deliverables.find_deliverable(ctx, pilot, key)
            if rework is not None and (pilot_id, key) not in self._returned:
                self._returned.add((pilot_id, key))
                deliverables.return_for_rework(ctx, deliverable, comment=rework.comment, at=at)
                self._add(at + timedelta(days=rework.redeliver_days), partial(self._deliver, pilot_id, key))
                return
            deliverables.accept(ctx, deliverable, at=at)
