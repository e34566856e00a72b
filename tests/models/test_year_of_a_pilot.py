"""The year of a pilot as it happens: sessions of its own that move and are cancelled (the
invitees' calendars follow), milestones reached from facts, the charter's deadline, deliverables
reviewed, reports true at their instant, and the words people read."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email.message import Message as MimeMessage

import pytest
from icalendar import Calendar
from sqlmodel import select

from flows.plain import run_one_stage
from models import charter, deliverables, jury, pilots, training, withdrawal
from models.accompaniment import progress
from models.clock import paris
from models.db import session_scope
from models.decision import DecisionForm, decide_from_form
from models.errors import InvalidInput, Refused
from models.read.deliverables import state_of
from models.read.steps import next_steps
from models.schedule import STAGES
from models.tables import Notice, Pilot, TrainingSession
from models.wording import agreement, of_territory, with_article
from notifications.channels import build_email
from notifications.message import single_message
from tests.conftest import EXAMPLES, at, ctx_of, select_three_pilots

ARRAS, LENS, FLANDRE, MAUBEUGE = "200033579", "246200364", "200040947", "200043396"
MANAGER = "aboutonne@cerdd.org"
CONSULTANCY = "cheffe-de-projet@prestataire.example.org"


def _tick(instant: str) -> int:
    return sum(run_one_stage(stage.name, at(instant)) for stage in STAGES)


def _notices(url: str, kind: str) -> list[Notice]:
    with session_scope(url) as session:
        return list(session.exec(select(Notice).where(Notice.kind == kind).order_by(Notice.id)).all())


def _sign(url: str, *sirens: str, instant: str = "2015-06-10T10:00") -> None:
    with session_scope(url) as session:
        ctx = ctx_of(session)
        for siren in sirens:
            pilot = pilots.find_pilot(ctx, siren)
            for party in ("territoire", "cerdd", "prestataire"):
                charter.sign_charter(ctx, pilot, party=party, signatory="X", at=at(instant))


def _started(url: str) -> None:
    select_three_pilots(url)
    _sign(url, ARRAS, LENS, FLANDRE)
    _tick("2015-07-01T09:30")


def _calendar_part(notice: Notice) -> tuple[str, str]:
    """The .eml of a notice parsed back: its text/calendar part's METHOD parameter and text."""
    raw = bytes(build_email(single_message(notice), "Cerdd <transitions@cerdd.org>"))
    parsed = email.message_from_bytes(raw)
    parts = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1, notice.dedup_key
    part: MimeMessage = parts[0]
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return str(part.get_param("method")), payload.decode("utf-8")


def _plain_parse(text: str) -> dict[str, str]:
    """An independent reading of one VEVENT (RFC 5545 §3.1: unfold, then NAME;PARAMS:VALUE)."""
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    fields: dict[str, str] = {}
    inside = False
    for line in unfolded.splitlines():
        if line == "BEGIN:VEVENT":
            inside = True
        elif line == "END:VEVENT":
            inside = False
        elif line.startswith("METHOD:"):
            fields["METHOD"] = line.split(":", 1)[1]
        elif inside:
            name_params, value = line.split(":", 1)  # parameter values here hold no colon
            fields[name_params.split(";")[0]] = value
    return fields


def test_each_pilot_has_its_own_sessions_apart_from_the_others(loaded: str) -> None:
    _started(loaded)
    with session_scope(loaded) as session:
        rows = session.exec(select(TrainingSession, Pilot).join(Pilot)).all()
    first = {pilot.name: (paris(training_session.starts_at).date().isoformat(), training_session.location)
             for training_session, pilot in rows if training_session.key == "formation-1"}
    # One week apart per pilot (the consultancy leads them all), each at its own seat.
    assert first == {"CU d'Arras": ("2015-08-03", "Siège de la CU d'Arras"),
                     "CA de Lens - Liévin": ("2015-08-10", "Siège de la CA de Lens - Liévin"),
                     "CC de Flandre Intérieure": ("2015-08-17", "Siège de la CC de Flandre Intérieure")}
    slots = [(training_session.location, training_session.starts_at, training_session.ends_at)
             for training_session, _ in rows]
    for index, (place, start, end) in enumerate(slots):
        for other_place, other_start, other_end in slots[index + 1:]:
            assert not (place == other_place and start < other_end and other_start < end)
    seminars = {training_session.starts_at for training_session, _ in rows
                if training_session.key == "seminaire-diffusion"}
    assert len(seminars) == 3  # three seminars at the Cerdd, on three different days


def test_a_moved_then_cancelled_session_updates_the_invitees_calendars(loaded: str) -> None:
    _started(loaded)
    _tick("2015-07-10T09:00")  # formation 1 (3 August): invitation 15 working days before
    invited = [n for n in _notices(loaded, "invitation_session") if "Arras" in n.body_text]
    assert {n.recipient_email for n in invited} >= {"claire.dufour@cu-arras.example.org", CONSULTANCY}
    claire = next(n for n in invited if n.recipient_email == "claire.dufour@cu-arras.example.org")
    method, text = _calendar_part(claire)
    event = Calendar.from_ical(text).walk("VEVENT")[0]
    assert method == "REQUEST" and "METHOD:REQUEST" in text
    assert (event.decoded("dtstart"), event.decoded("dtend")) == (
        datetime(2015, 8, 3, 7, 30, tzinfo=UTC), datetime(2015, 8, 3, 10, 30, tzinfo=UTC))
    assert int(event["sequence"]) == 0 and str(event["location"]) == "Siège de la CU d'Arras"
    assert str(event["organizer"]) == f"mailto:{MANAGER}"
    assert str(event["attendee"]) == "mailto:claire.dufour@cu-arras.example.org"
    uid = str(event["uid"])
    plain = _plain_parse(text)
    assert (plain["DTSTART"], plain["DTEND"], plain["SEQUENCE"], plain["UID"], plain["ATTENDEE"]) == (
        "20150803T073000Z", "20150803T103000Z", "0", uid, "mailto:claire.dufour@cu-arras.example.org")
    assert claire.calendar is not None and not claire.digest

    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        training_session = training.find_session(ctx, pilots.find_pilot(ctx, ARRAS), "formation-1")
        with pytest.raises(InvalidInput, match="motif est obligatoire"):
            training.reschedule(ctx, training_session, to=at("2015-08-05T14:00"), reason=" ", at=at("2015-07-20T10:00"))
        with pytest.raises(InvalidInput, match="pas un jour ouvré"):
            training.reschedule(ctx, training_session, to=at("2015-08-15T14:00"), reason="x", at=at("2015-07-20T10:00"))
        assert training.reschedule(ctx, training_session, to=at("2015-08-05T14:00"), reason="Salle du conseil prise",
                                   at=at("2015-07-20T10:00"))
        assert not training.reschedule(ctx, training_session, to=at("2015-08-05T14:00"),
                                       reason="Salle du conseil prise", at=at("2015-07-20T10:00"))
    updates = _notices(loaded, "session_modifiee")
    assert {n.recipient_email for n in updates} == {n.recipient_email for n in invited}
    assert all(n.created_at == at("2015-07-20T10:00") for n in updates)
    update = next(n for n in updates if n.recipient_email == "claire.dufour@cu-arras.example.org")
    assert "lundi 3 août 2015 à 9h30" in update.body_text and "Salle du conseil prise" in update.body_text
    method, text = _calendar_part(update)
    plain = _plain_parse(text)
    assert method == "REQUEST" and (plain["UID"], plain["SEQUENCE"], plain["DTSTART"], plain["DTEND"]) == (
        uid, "1", "20150805T120000Z", "20150805T150000Z")

    # Reminders follow the new date: none two working days before 3 August, one before 5 August.
    _tick("2015-07-30T09:00")
    assert not [n for n in _notices(loaded, "rappel_session") if "Arras" in n.body_text]
    _tick("2015-08-03T09:00")
    reminders = [n for n in _notices(loaded, "rappel_session") if "Arras" in n.body_text]
    assert reminders and all(":1:" in n.dedup_key and "mercredi 5 août 2015 à 14h00" in n.body_text
                             for n in reminders)
    assert not [n for n in _notices(loaded, "invitation_session") if n.created_at > at("2015-07-10T09:00")
                and "Arras" in n.body_text]  # no second invitation: the update did it

    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        training_session = training.find_session(ctx, pilots.find_pilot(ctx, ARRAS), "formation-1")
        assert training.cancel(ctx, training_session, reason="Intempéries", at=at("2015-08-04T08:00"))
        assert not training.cancel(ctx, training_session, reason="Intempéries", at=at("2015-08-04T08:00"))
        with pytest.raises(Refused, match="annulée"):
            training.record_attendance(ctx, training_session, person="A", organisation="CU", present=True,
                                       at=at("2015-08-05T18:00"))
    cancelled = _notices(loaded, "session_annulee")
    assert {n.recipient_email for n in cancelled} == {n.recipient_email for n in invited}
    method, text = _calendar_part(next(n for n in cancelled if n.recipient_email == CONSULTANCY))
    plain = _plain_parse(text)
    assert method == "CANCEL" and (plain["METHOD"], plain["STATUS"], plain["SEQUENCE"]) == ("CANCEL", "CANCELLED", "2")
    assert Calendar.from_ical(text).walk("VEVENT")[0]["uid"] == uid  # one UID per session, whoever receives it
    _tick("2015-08-05T09:00")
    assert len([n for n in _notices(loaded, "rappel_session") if "Arras" in n.body_text]) == len(reminders)


def test_milestones_are_reached_from_facts_late_ones_escalated_once(loaded: str) -> None:
    _started(loaded)
    _tick("2015-09-01T09:30")
    _tick("2015-09-01T09:30")
    late = [n for n in _notices(loaded, "jalon_en_retard") if "Arras" in n.subject]
    assert [(n.recipient_email, n.created_at) for n in late] == [(MANAGER, at("2015-09-01T09:30"))]
    assert "session « Les nouveaux modèles économiques" in late[0].body_text
    assert "livrable « Diagnostic des acteurs et des ressources du territoire » accepté" in late[0].body_text
    assert not [n for n in _notices(loaded, "jalon_atteint") if "Arras" in n.subject]
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        training_session = training.find_session(ctx, arras, "formation-1")
        training.record_attendance(ctx, training_session, person="A", organisation="CU", present=True,
                                   at=at("2015-08-03T13:30"))
        for key in ("methode", "diagnostic"):
            deliverable = deliverables.find_deliverable(ctx, arras, key)
            deliverables.deliver(ctx, deliverable, at=at("2015-09-08T10:00"), by="prestataire")
            with pytest.raises(Refused, match="remis que le"):
                deliverables.accept(ctx, deliverable, at=at("2015-09-08T09:00"))
            deliverables.accept(ctx, deliverable, at=at("2015-09-09T10:00"))
    _tick("2015-09-09T10:00")
    reached = [n for n in _notices(loaded, "jalon_atteint") if "Arras" in n.subject]
    assert reached and all("(en retard)" in n.subject for n in reached)
    assert {n.recipient_email for n in reached} >= {"claire.dufour@cu-arras.example.org", MANAGER, CONSULTANCY}
    assert "Acquis" in reached[0].body_text and "La CU d'Arras a atteint le jalon" in reached[0].body_text
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        before, after = progress(ctx, arras, at("2015-09-05T09:00")), progress(ctx, arras, at("2015-09-10T09:00"))
        # A session counts as held once its attendance is recorded, not when its date passes.
        assert (before.milestones_reached, before.sessions_held, before.deliverables_overdue) == (0, 1, 2)
        assert (after.milestones_reached, after.sessions_held, after.deliverables_late) == (1, 1, 2)
        lens = progress(ctx, pilots.find_pilot(ctx, LENS), at("2015-09-10T09:00"))
        assert (lens.sessions_held, lens.milestones_reached) == (0, 0)  # its formation 1 has no attendance
    assert len([n for n in _notices(loaded, "jalon_en_retard") if "Arras" in n.subject]) == 1


def test_an_unsigned_charter_is_escalated_then_the_pilot_withdrawn_and_its_place_offered(loaded: str) -> None:
    from models.call import close_call, launch_call
    from transitions.intake import read_application, submit_form

    with session_scope(loaded) as session:
        launch_call(ctx_of(session), at("2015-04-02T09:00"))
    for name in ("candidature-cu-arras.yaml", "candidature-ca-lens-lievin-v2.yaml",
                 "candidature-cc-flandre-interieure.yaml", "candidature-ca-maubeuge-val-de-sambre.yaml"):
        submit_form(loaded, read_application(EXAMPLES / name), at("2015-04-20T10:00"), None)
    with session_scope(loaded) as session:
        close_call(ctx_of(session), at("2015-05-07T12:00"))
    marks = {ARRAS: 5, LENS: 4, FLANDRE: 4, MAUBEUGE: 3}
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        for member in ctx.definition.jury.members:
            sheet = jury.ScoreSheet(juror=member.juror, notes={
                siren: {c.key: mark for c in ctx.definition.jury.criteria} for siren, mark in marks.items()})
            jury.record_sheet(ctx, sheet, at("2015-06-01T10:00"))
    _tick("2015-06-04T14:00")
    with session_scope(loaded) as session:  # the jury's secretary confirms the proposal
        decide_from_form(ctx_of(session), DecisionForm(secretaire="Emmanuel Bertin"), at("2015-06-04T14:30"))
    _sign(loaded, ARRAS, LENS)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        flandre = pilots.find_pilot(ctx, FLANDRE)
        charter.sign_charter(ctx, flandre, party="cerdd", signatory="Emmanuel Bertin", at=at("2015-06-15T10:00"))
    _tick("2015-06-26T18:00")
    _tick("2015-06-26T18:00")
    expired = _notices(loaded, "charte_non_signee")
    assert [(n.recipient_email, n.created_at) for n in expired] == [(MANAGER, at("2015-06-26T18:00"))]
    assert "du territoire, du prestataire" in expired[0].body_text and "pilot withdraw" in expired[0].body_text
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        flandre = pilots.find_pilot(ctx, FLANDRE)
        with pytest.raises(InvalidInput, match="motif est obligatoire"):
            withdrawal.withdraw(ctx, flandre, reason="", at=at("2015-07-06T10:00"))
        successor = withdrawal.withdraw(ctx, flandre, reason="Délibération non obtenue", at=at("2015-07-06T10:00"))
        assert successor is not None and successor.name == "CA Maubeuge Val de Sambre"
        assert successor.sign_by == at("2015-07-21T18:00")  # 10 working days (14 July is a holiday)
        assert withdrawal.withdraw(ctx, flandre, reason="Délibération non obtenue", at=at("2015-07-06T10:00")) is None
        with pytest.raises(Refused, match="retirée du programme"):
            charter.sign_charter(ctx, flandre, party="territoire", signatory="X", at=at("2015-07-07T10:00"))
    withdrawn = _notices(loaded, "pilote_retire")
    assert {n.recipient_email for n in withdrawn} >= {"p.vandenbussche@ccfi.example.org", MANAGER, CONSULTANCY}
    assert withdrawn[0].subject == "La CC de Flandre Intérieure a été retirée du programme par le Cerdd"
    assert "Sa place est proposée à la CA Maubeuge Val de Sambre" in withdrawn[0].body_text
    chosen = [n for n in _notices(loaded, "decision_retenue") if "amvs" in n.recipient_email]
    assert chosen and chosen[0].subject == "La CA Maubeuge Val de Sambre est retenue comme territoire pilote"
    assert chosen[0].created_at == at("2015-07-06T10:00") and "mardi 21 juillet 2015 à 18h00" in chosen[0].body_text
    to_sign = [n for n in _notices(loaded, "charte_a_signer") if "Maubeuge" in n.subject]
    assert {n.recipient_email for n in to_sign} >= {"g.lambert@amvs.example.org", MANAGER, CONSULTANCY}
    _sign(loaded, MAUBEUGE, instant="2015-07-10T11:00")
    _tick("2015-07-10T11:00")
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        maubeuge = pilots.find_pilot(ctx, MAUBEUGE)
        assert (maubeuge.status, maubeuge.kickoff_at) == ("en_cours", at("2015-07-10T11:00"))
        # Reports at an earlier instant: Maubeuge had not been selected, Flandre was still pending.
        earlier = at("2015-07-01T10:00")
        assert next_steps(ctx, maubeuge, earlier) == []
        assert progress(ctx, pilots.find_pilot(ctx, FLANDRE), earlier).status == "charte_en_attente"
        assert progress(ctx, pilots.find_pilot(ctx, FLANDRE), at("2015-07-07T10:00")).status == "retire"


def test_deliverables_are_reviewed_and_their_due_dates_change_only_with_a_reason(loaded: str) -> None:
    _started(loaded)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        arras = pilots.find_pilot(ctx, ARRAS)
        deliverable = deliverables.find_deliverable(ctx, arras, "diagnostic")
        with pytest.raises(InvalidInput, match="motif est obligatoire"):
            deliverables.postpone(ctx, deliverable, to=at("2015-09-15T18:00"), reason="", at=at("2015-08-10T10:00"))
        assert deliverables.postpone(ctx, deliverable, to=at("2015-09-15T18:00"), reason="Entretiens d'été décalés",
                                     at=at("2015-08-10T10:00"))
        method = deliverables.find_deliverable(ctx, arras, "methode")
        deliverables.deliver(ctx, method, at=at("2015-07-30T16:00"), by="prestataire")
        with pytest.raises(InvalidInput, match="commentaire est obligatoire"):
            deliverables.return_for_rework(ctx, method, comment=" ", at=at("2015-07-31T10:00"))
        deliverables.return_for_rework(ctx, method, comment="Préciser le calendrier", at=at("2015-07-31T10:00"),
                                       due=at("2015-08-14T18:00"))
        assert state_of(method, at("2015-08-01T10:00")) == "à reprendre"
    postponed = _notices(loaded, "livrable_reporte")
    assert {n.recipient_email for n in postponed} == {CONSULTANCY, MANAGER}
    assert "mardi 1er septembre 2015 à 18h00 au mardi 15 septembre 2015 à 18h00" in postponed[0].body_text
    returned = _notices(loaded, "livrable_a_reprendre")
    assert {n.recipient_email for n in returned} == {CONSULTANCY, MANAGER}
    assert "Préciser le calendrier" in returned[0].body_text
    # Reminders follow the current due date and revision: 10 and 3 working days before 15 September.
    for instant in ("2015-08-18T09:00", "2015-09-01T09:00", "2015-09-02T09:00", "2015-09-10T09:00"):
        _tick(instant)
    diagnostic = [n for n in _notices(loaded, "rappel_livrable") + _notices(loaded, "livrable_en_retard")
                  if "Diagnostic" in n.subject and "Arras" in n.subject and n.recipient_email == CONSULTANCY]
    assert [(n.kind, paris(n.created_at).date().isoformat(), n.dedup_key.split(":")[2]) for n in diagnostic] == [
        ("rappel_livrable", "2015-09-01", "1"), ("rappel_livrable", "2015-09-10", "1")]
    with session_scope(loaded) as session:
        from models.tables import AuditEntry

        actions = [e.action for e in session.exec(select(AuditEntry)).all()]
    assert {"livrable.reporte", "livrable.a_reprendre"} <= set(actions)


def test_territories_are_named_with_their_article_and_agreement() -> None:
    assert with_article("CU d'Arras") == "la CU d'Arras"
    assert of_territory("CC de Flandre Intérieure") == "de la CC de Flandre Intérieure"
    assert with_article("Métropole Européenne de Lille") == "la Métropole Européenne de Lille"
    assert of_territory("Réseau Entreprendre Durable Hainaut") == "du Réseau Entreprendre Durable Hainaut"
    assert agreement("CA de Lens - Liévin") == "e" and agreement("Réseau Entreprendre") == ""


def test_the_exported_calendar_is_valid_and_can_be_filtered(loaded: str) -> None:
    from transitions.calendar_export import build_calendar

    _started(loaded)
    stamp = at("2015-07-02T10:00")
    with session_scope(loaded) as session:
        whole = Calendar.from_ical(build_calendar(session, None, stamp))
        arras = Calendar.from_ical(build_calendar(session, None, stamp, pilot=ARRAS))
        claire = Calendar.from_ical(build_calendar(session, None, stamp,
                                                   person="claire.dufour@cu-arras.example.org"))
    assert str(whole["method"]) == "PUBLISH"
    events = whole.walk("VEVENT")
    assert len(events) == 3 * 11 and all(e.decoded("dtend") > e.decoded("dtstart") for e in events)
    assert len(arras.walk("VEVENT")) == 11 and len(claire.walk("VEVENT")) == 5
    assert all("Arras" in str(e["summary"]) for e in claire.walk("VEVENT"))
