"""Calendar parts as they leave: an invitation, its update and its cancellation, sent through the
real SMTP and file channels, carry a text/calendar part whose every line ends with CRLF
(RFC 5545 §3.1; Outlook refuses bare LF) and which icalendar reads, under the session's one UID."""

from __future__ import annotations

import email
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from pathlib import Path
from typing import Any

import pytest
from icalendar import Calendar
from sqlmodel import Session

from flows.plain import run_one_stage
from models import charter, pilots, training
from models.db import get_engine, session_scope
from models.read.calendar import session_file
from models.schedule import STAGES
from models.tables import TrainingSession
from notifications.channels import FileChannel
from notifications.deliver import deliver_due
from notifications.message import Message
from notifications.routing import Channels
from notifications.smtp import SmtpChannel
from tests.conftest import at, ctx_of, select_three_pilots
from tests.notifications.servers import SmtpSink, smtp_server

ARRAS = "200033579"
CLAIRE = "claire.dufour@cu-arras.example.org"
KINDS = ("invitation_session", "session_modifiee", "session_annulee")


@dataclass
class RawSink(SmtpSink):
    """Keeps the bytes each message arrived with, as the server received them."""

    raw: list[bytes] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.raw.append(envelope.original_content)
        return await super().handle_DATA(server, session, envelope)


class BothChannels:
    """Hands each message to the SMTP channel and to the file channel: the same message, two wires."""

    name = "both"

    def __init__(self, smtp: SmtpChannel, files: FileChannel) -> None:
        self.smtp, self.files = smtp, files

    def send(self, message: Message) -> None:
        self.smtp.send(message)
        self.files.send(message)

    def close(self) -> None:
        self.smtp.close()


def _tick(instant: str) -> None:
    for stage in STAGES:
        run_one_stage(stage.name, at(instant))


def _deliver(url: str, port: int, outbox: Path, instant: str) -> None:
    channel = BothChannels(SmtpChannel(host="127.0.0.1", port=port, sender="Cerdd <transitions@cerdd.org>",
                                       timeout=30), FileChannel(outbox, "Cerdd <transitions@cerdd.org>"))
    with Session(get_engine(url), expire_on_commit=False) as session:
        deliver_due(session, as_of=at(instant), channels=Channels.single(channel))


def _formation_1(url: str, act: Any) -> None:
    with session_scope(url) as session:
        ctx = ctx_of(session)
        pilot = pilots.find_pilot(ctx, ARRAS)
        act(ctx, training.find_session(ctx, pilot, "formation-1"))


def _claires_calendars(raws: list[bytes]) -> dict[str, bytes]:
    """Claire's invitation, update and cancellation: the calendar part's bytes by notice kind."""
    found: dict[str, bytes] = {}
    for raw in raws:
        parsed = email.message_from_bytes(raw, policy=policy.default)
        if parsed["X-Transitions-Kind"] not in KINDS or CLAIRE not in str(parsed["To"]):
            continue
        parts = [p for p in parsed.walk() if p.get_content_type() == "text/calendar"]
        assert len(parts) == 1, parsed["Subject"]
        payload = parts[0].get_payload(decode=True)
        assert isinstance(payload, bytes)
        found[str(parsed["X-Transitions-Kind"])] = payload
    return found


def _assert_crlf_and_parse(data: bytes) -> Calendar:
    lines = data.split(b"\r\n")
    assert data.endswith(b"\r\n") and lines[-1] == b""
    assert all(b"\n" not in line and b"\r" not in line for line in lines), "fin de ligne sans CRLF"
    return Calendar.from_ical(data)


def _invite_move_cancel(loaded: str, tmp_path: Path) -> tuple[list[bytes], list[bytes]]:
    """Formation 1 of the CU d'Arras: invited, moved, cancelled; the messages as the SMTP server
    received them and as the file channel wrote them."""
    select_three_pilots(loaded)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        for party in ("territoire", "cerdd", "prestataire"):
            charter.sign_charter(ctx, pilots.find_pilot(ctx, ARRAS), party=party, signatory="X",
                                 at=at("2015-06-10T10:00"))
    sink, outbox = RawSink(), tmp_path / "outbox"
    with smtp_server(sink) as port:
        _tick("2015-07-01T09:30")
        _tick("2015-07-10T09:00")  # formation 1 (3 August): the invitation
        _deliver(loaded, port, outbox, "2015-07-10T09:00")

        def move(ctx: Any, session: TrainingSession) -> None:
            training.reschedule(ctx, session, to=at("2015-08-05T14:00"), reason="Salle prise",
                                at=at("2015-07-20T10:00"))
        _formation_1(loaded, move)
        _deliver(loaded, port, outbox, "2015-07-20T10:00")

        def cancel(ctx: Any, session: TrainingSession) -> None:
            training.cancel(ctx, session, reason="Intempéries", at=at("2015-08-04T08:00"))
        _formation_1(loaded, cancel)
        _deliver(loaded, port, outbox, "2015-08-04T08:00")
    return sink.raw, [path.read_bytes() for path in sorted(outbox.glob("*.eml"))]


def test_invitations_updates_and_cancellations_leave_with_crlf_calendar_parts(loaded: str, tmp_path: Path) -> None:
    for raws in _invite_move_cancel(loaded, tmp_path):
        sent = _claires_calendars(raws)
        assert set(sent) == set(KINDS)
        events = {kind: _assert_crlf_and_parse(data) for kind, data in sent.items()}
        methods = {kind: str(calendar["method"]) for kind, calendar in events.items()}
        assert methods == {"invitation_session": "REQUEST", "session_modifiee": "REQUEST", "session_annulee": "CANCEL"}
        vevents = {kind: calendar.walk("VEVENT")[0] for kind, calendar in events.items()}
        assert len({str(event["uid"]) for event in vevents.values()}) == 1
        assert [int(vevents[kind]["sequence"]) for kind in KINDS] == [0, 1, 2]
        assert vevents["session_modifiee"].decoded("dtstart") == at("2015-08-05T14:00")
        assert str(vevents["session_annulee"]["status"]) == "CANCELLED"


def test_a_calendar_stored_with_bare_line_feeds_leaves_with_crlf(tmp_path: Path) -> None:
    from datetime import UTC

    from models.notices import Recipient
    message = Message(recipient=Recipient("epci@example.org", "EPCI"), subject="Invitation", text="Bonjour\n",
                      html="<p>Bonjour</p>", message_id="<m1@transitions.cerdd.org>", kind="invitation_session",
                      key="k", created_at=datetime(2015, 7, 10, 7, tzinfo=UTC), stem="m1",
                      calendar="BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:-//x//y//FR\nMETHOD:REQUEST\nBEGIN:VEVENT\n"
                               "UID:u@x\nDTSTAMP:20150710T070000Z\nSUMMARY:Réunion « été »\nEND:VEVENT\nEND:VCALENDAR")
    FileChannel(tmp_path, "Cerdd <transitions@cerdd.org>").send(message)
    parsed = email.message_from_bytes((tmp_path / "m1.eml").read_bytes(), policy=policy.default)
    part, = (p for p in parsed.walk() if p.get_content_type() == "text/calendar")
    assert part.get_param("method") == "REQUEST" and part["Content-Transfer-Encoding"] == "base64"
    payload = part.get_payload(decode=True)
    assert isinstance(payload, bytes)
    event = _assert_crlf_and_parse(payload).walk("VEVENT")[0]
    assert str(event["summary"]) == "Réunion « été »"


NO_KHAL = "khal non installable (pip ne joint pas le dépôt de paquets)"


@pytest.fixture(scope="session")
def khal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """khal, a calendar client, installed in a virtual environment of its own (skipped when pip
    cannot reach the package registry)."""
    venv = tmp_path_factory.mktemp("khal") / "venv"
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", "khal"], check=True, capture_output=True,
                       timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        pytest.skip(NO_KHAL)
    return venv / "bin" / "khal"


def khal_calendar(folder: Path) -> tuple[Path, Path]:
    """A khal configuration in `folder` with one calendar, « formations », in Paris time: the
    configuration file and the calendar's folder."""
    store = folder / "agenda"
    store.mkdir()
    config = folder / "khal.conf"
    config.write_text(f"[calendars]\n[[formations]]\npath = {store}\ntype = calendar\n[locale]\n"
                      "timeformat = %H:%M\ndateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\n"
                      "datetimeformat = %Y-%m-%d %H:%M\nlongdatetimeformat = %Y-%m-%d %H:%M\n"
                      "default_timezone = Europe/Paris\nlocal_timezone = Europe/Paris\n", encoding="utf-8")
    return config, store


@pytest.mark.slow
def test_a_calendar_client_holds_the_invitation_its_update_and_its_cancellation_as_one_event(
        loaded: str, tmp_path: Path, khal: Path) -> None:
    """khal imports Claire's three calendar parts, as sent, in order: one event, moved, then cancelled;
    the same session's file from the portal lands on that event too."""
    _, files = _invite_move_cancel(loaded, tmp_path)
    sent = _claires_calendars(files)
    config, store = khal_calendar(tmp_path)
    listed = []
    for kind in KINDS:
        part = tmp_path / f"{kind}.ics"
        part.write_bytes(sent[kind])
        subprocess.run([str(khal), "-c", str(config), "import", "--batch", "-a", "formations", str(part)],
                       check=True, capture_output=True, timeout=120)
        shown = subprocess.run([str(khal), "-c", str(config), "list", "2015-08-01", "10d"], check=True,
                               capture_output=True, text=True, timeout=120).stdout
        listed.append([line for line in shown.splitlines() if ":" in line])  # event lines carry hours
        assert len(list(store.glob("*.ics"))) == 1, sorted(p.name for p in store.iterdir())
    with session_scope(loaded) as session:  # the session's file from the portal, downloaded afterwards
        ctx = ctx_of(session)
        pilot = pilots.find_pilot(ctx, ARRAS)
        portal = session_file(ctx, pilot, training.find_session(ctx, pilot, "formation-1"), at("2015-08-04T09:00"))
    (tmp_path / "portail.ics").write_bytes(portal)
    subprocess.run([str(khal), "-c", str(config), "import", "--batch", "-a", "formations",
                    str(tmp_path / "portail.ics")], check=True, capture_output=True, timeout=120)
    assert len(list(store.glob("*.ics"))) == 1, "le fichier du portail crée un second événement"
    invited, moved, cancelled = listed
    assert len(invited) == len(moved) == len(cancelled) == 1, listed
    assert invited[0].startswith("09:30-") and moved[0].startswith("14:00-"), listed
    assert cancelled[0].startswith("CANCELLED 14:00-"), listed
