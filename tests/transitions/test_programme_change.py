"""Issue 26's « done when »: the 2015 replay at 2015-09-01, a file moving `formation-2` by a week for
every pilot and extending phase 3 (`espace-innovation`) by a month. `programme diff` lists exactly
the moved sessions, reminders and phases per person (the list below is worked out by hand from the
replay's dates: kick-offs, staggers, 15 and 2 working days before each session at 9h00); `apply`
then sends exactly the previewed notices; status, report and exports at 2015-08-31 are unchanged and
at 2015-09-02 show the new dates; khal shows each moved session once, at its new time."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from rich.console import Console
from sqlmodel import col, func, select
from typer.testing import CliRunner

from config.settings import reset_settings
from flows.plain import run_tick_plain
from models.context import load_ctx
from models.db import dispose_engines, session_scope
from models.read.report_data import report_data
from models.read.status import build_status
from models.tables import AuditEntry, Notice, Programme, ProgrammePreview, ProgrammeVersion, TrainingSession
from tests.conftest import PROJECT_ROOT, at
from tests.notifications.test_calendar_parts import khal, khal_calendar  # noqa: F401  (khal: the fixture)
from transitions.cli import app
from transitions.demo import run_demo
from transitions.exports import export_rows

pytestmark = pytest.mark.slow
runner = CliRunner()
T = "2015-09-01T10:00"
SECRET = "Qh3Zr8Vw1Tn6Ky4Mb9Lc2Xp7Sd5Gf0Ja8Ue3Po1"

ARRAS = ["claire.dufour@cu-arras.example.org", "jm.lefebvre@cu-arras.example.org",
         "mehdi.benali@cu-arras.example.org"]
LENS = ["b.delcourt@agglo-lenslievin.example.org", "n.haddad@agglo-lenslievin.example.org"]
MAUBEUGE = ["g.lambert@amvs.example.org", "i.moreau@amvs.example.org"]
CONSULTANCY = "cheffe-de-projet@prestataire.example.org"
CERDD = ["aboutonne@cerdd.org", "ebertin@cerdd.org"]

# formation-2 (P3M, stagger P1W, 9h30): Arras 1 Oct → 8 Oct; Lens (one pilot started before) 8 Oct →
# 15 Oct; Maubeuge (kick-off 10 July, two before) Sat 24 Oct → Mon 26 Oct, now Sat 31 Oct → (1 Nov
# is a Sunday and a holiday) Mon 2 Nov. Invitation 15 working days before, reminder 2, at 9h00.
MOVES = {
    "Arras": [("invitation_session", "2015-09-10T09:00", "2015-09-17T09:00"),
              ("rappel_session", "2015-09-29T09:00", "2015-10-06T09:00")],
    "Lens": [("invitation_session", "2015-09-17T09:00", "2015-09-24T09:00"),
             ("rappel_session", "2015-10-06T09:00", "2015-10-13T09:00")],
    "Maubeuge": [("invitation_session", "2015-10-05T09:00", "2015-10-12T09:00"),
                 ("rappel_session", "2015-10-22T09:00", "2015-10-29T09:00")],
}
ELEMENTS = {  # (pilot, kind, before, after): sessions by start, phases by end (their start is unchanged)
    ("CU d'Arras", "session", "2015-10-01T09:30", "2015-10-08T09:30"),
    ("CA de Lens - Liévin", "session", "2015-10-08T09:30", "2015-10-15T09:30"),
    ("CA Maubeuge Val de Sambre", "session", "2015-10-26T09:30", "2015-11-02T09:30"),
    ("CU d'Arras", "phase", "2016-02-01T09:30", "2016-03-01T09:30"),
    ("CA de Lens - Liévin", "phase", "2016-02-01T09:30", "2016-03-01T09:30"),
    ("CA Maubeuge Val de Sambre", "phase", "2016-02-10T11:00", "2016-03-10T11:00"),
}


def expected_notice_moves() -> set[tuple[str, str, datetime, datetime]]:
    found = set()
    for pilot, people in (("Arras", ARRAS), ("Lens", LENS), ("Maubeuge", MAUBEUGE)):
        for person in [*people, CONSULTANCY]:
            found |= {(kind, person, at(before), at(after)) for kind, before, after in MOVES[pilot]}
    return found


@pytest.fixture(scope="module")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, Path]]:
    """The 2015 replay up to 2015-09-01 (without Prefect), and the changed programme file."""
    out = tmp_path_factory.mktemp("changement")
    mp = pytest.MonkeyPatch()
    for key in ("DATABASE_URL", "OUTBOX_DIR", "NOTICE_CHANNEL", "PREFECT_HOME", "DATA_DIR"):
        mp.setenv(key, "placeholder")
    run_demo(out / "demo", Console(file=io.StringIO(), width=200), tick=run_tick_plain, until=at("2015-09-01T00:00"),
             secret=SECRET)
    dispose_engines()
    url = f"sqlite:///{out / 'demo' / 'transitions.db'}"
    mp.setenv("DATABASE_URL", url)
    mp.setenv("OUTBOX_DIR", str(out / "outbox"))
    mp.setenv("DATA_DIR", str(out / "data"))
    mp.setenv("NOTICE_CHANNEL", "file")
    mp.delenv("PREFECT_HOME")
    reset_settings()
    folder = out / "fichiers" / "programmes"
    folder.mkdir(parents=True)
    shutil.copytree(PROJECT_ROOT / "data", out / "fichiers" / "data")
    text = (PROJECT_ROOT / "programmes" / "cerdd-2015.yaml").read_text(encoding="utf-8")
    moved = text.replace("    - key: formation-2\n      title: \"Économie de services et de proximité : outils pour "
                         "l'action\"\n      at: P3M\n", "    - key: formation-2\n      title: \"Économie de services "
                         "et de proximité : outils pour l'action\"\n      at: P3M1W\n")
    moved = moved.replace("      start: P5M\n      end: P7M\n", "      start: P5M\n      end: P8M\n")
    assert moved.count("P3M1W") == 1 and moved.count("end: P8M") == 1
    (folder / "cerdd-2015.yaml").write_text(moved, encoding="utf-8")
    yield out, url, folder / "cerdd-2015.yaml"
    mp.undo()
    reset_settings()
    dispose_engines()


def _seen(url: str, when: str) -> tuple[object, ...]:
    """Status, report and the sessions' and deliverables' exports at `when`."""
    with session_scope(url) as session:
        status = build_status(session, at(when))
        ctx = load_ctx(session)
        report = report_data(ctx, at(when)).pilots
        sessions = export_rows(ctx, "sessions", at(when))
        deliverables = export_rows(ctx, "deliverables", at(when))
    return (status.stage, status.progress, status.next_due), report, sessions, deliverables


def _continue(url: str, until: datetime) -> None:
    """The programme's ticks after the change, from its instant on, instant after instant (no human
    acts), as the preview replays them."""
    run_tick_plain(at(T))
    for _ in range(2000):
        with session_scope(url) as session:
            following = session.exec(select(Programme.next_due_at)).one()
        if following is None or following > until:
            return
        run_tick_plain(following)


def test_diff_then_apply_moves_exactly_the_previewed_dates(replay: tuple[Path, str, Path], khal: Path) -> None:  # noqa: F811
    out, url, changed = replay
    before = {when: _seen(url, when) for when in ("2015-08-31", "2015-09-02")}
    refused = runner.invoke(app, ["programme", "apply", str(changed), "--reason", "Salle", "--at", T])
    assert refused.exit_code == 4 and "programme diff" in refused.output, refused.output  # never previewed

    shown = runner.invoke(app, ["programme", "diff", str(changed), "--at", T, "--json",
                                "--html", str(out / "diff.html"), "--by", "Anne Boutonne"])
    assert shown.exit_code == 0, shown.output
    preview = json.loads(shown.output)
    with session_scope(url) as session:  # kept for the back office: what --json printed, who, which file
        kept = session.exec(select(ProgrammePreview)).one()
        assert (kept.result, kept.actor, kept.source, kept.version, kept.at) == (
            preview, "cli:Anne Boutonne", "cerdd-2015.yaml", 1, at(T))
    assert len(preview["sha256"]) == 64 and preview["version"] == 1 and preview["refus"] == []
    notices = preview["differences"]
    moved = {(d["type"], d["personne"], datetime.fromisoformat(d["avant"]), datetime.fromisoformat(d["apres"]))
             for d in notices if d["quoi"] == "avis" and d["changement"] == "deplace"}
    assert moved == expected_notice_moves()
    assert not [d for d in notices if d["quoi"] == "avis" and d["changement"] == "disparait"]
    told = {d["personne"] for d in notices if d["quoi"] == "avis" and d["changement"] == "apparait"
            and d["type"] == "changement_programme"}
    assert told == {*ARRAS, *LENS, *MAUBEUGE, CONSULTANCY, *CERDD}
    assert {d["type"] for d in notices if d["quoi"] == "avis" and d["changement"] == "apparait"} == {
        "changement_programme"}
    elements = {(d["personne"], d["type"], datetime.fromisoformat(d["avant"]), datetime.fromisoformat(d["apres"]))
                for d in notices if d["quoi"] == "element"}
    phases = {(p, k, at(b), at(a)) for p, k, b, a in ELEMENTS if k == "session"}
    assert {e for e in elements if e[1] == "session"} == phases
    # a phase's start is unchanged: the element carries its end before and after
    assert {e for e in elements if e[1] == "phase"} == {(p, k, at(b), at(a)) for p, k, b, a in ELEMENTS if k == "phase"}
    assert not [e for e in elements if e[1] == "jalon"]  # no milestone of the 2015 file depends on these dates
    assert all("date 3 mois → 3 mois et 1 semaine" in d["cause"]
               for d in notices if d["quoi"] == "avis" and d["changement"] == "deplace")
    page = (out / "diff.html").read_text(encoding="utf-8")
    assert preview["sha256"] in page and "Par personne" in page and "<script" not in page
    codes = {d["type"] for d in notices if d["quoi"] in ("avis", "instant")}
    assert {"changement_programme", "sessions"} <= codes  # kinds and stages by their code in --json ...
    assert not [code for code in codes if f"<td>{code}</td>" in page]  # ... by their French name on the page
    assert "<td>Changement de programme</td>" in page and "<td>invitations et rappels de session</td>" in page
    assert _seen(url, "2015-09-02") == before["2015-09-02"]  # the preview wrote nothing

    applied = runner.invoke(app, ["programme", "apply", str(changed), "--reason", "Salle du conseil prise",
                                  "--at", T])
    assert applied.exit_code == 0, applied.output
    with session_scope(url) as session:
        mark = session.exec(select(func.max(col(Notice.id))).where(col(Notice.created_at) < at(T))).one()
        queued = session.exec(select(func.count()).select_from(Notice).where(col(Notice.id) > mark)).one()
        assert f"{queued} avis en attente d'envoi" in " ".join(applied.output.split())  # every one counted
        sessions = session.exec(select(TrainingSession).where(TrainingSession.key == "formation-2")).all()
        assert sorted((s.starts_at, s.sequence) for s in sessions) == sorted(
            (at(a), 1) for p, k, b, a in ELEMENTS if k == "session")
        assert [v.number for v in session.exec(select(ProgrammeVersion)).all()] == [1, 2]
        phase_moves = session.exec(select(AuditEntry).where(AuditEntry.action == "phase.deplacee")).all()
        assert len(phase_moves) == 3 and all("avant" in e.details for e in phase_moves)
    again = runner.invoke(app, ["programme", "apply", str(changed), "--reason", "Salle du conseil prise", "--at", T])
    assert again.exit_code == 0 and "Rien à changer" in again.output

    assert _seen(url, "2015-08-31") == before["2015-08-31"]
    after = _seen(url, "2015-09-02")
    starts = {(row["pilote"], row["cle"]): row["debut"] for row in after[2][0]}
    assert {(p, at(a)) for p, k, _, a in ELEMENTS if k == "session"} == {
        (pilot, start) for (pilot, key), start in starts.items() if key == "formation-2"}
    ends = {(view.name, item.key): item.end for view in after[1] for item in view.phases}
    assert {(p, at(a)) for p, k, _, a in ELEMENTS if k == "phase"} == {
        (pilot, end) for (pilot, key), end in ends.items() if key == "espace-innovation"}
    was = {(row["pilote"], row["cle"]): row["debut"] for row in before["2015-09-02"][2][0]}
    assert {(p, at(b)) for p, k, b, _ in ELEMENTS if k == "session"} == {
        (pilot, start) for (pilot, key), start in was.items() if key == "formation-2"}

    _continue(url, at("2016-08-15T00:00"))
    with session_scope(url) as session:
        real = session.exec(select(Notice).where(col(Notice.id) > mark)).all()
        sent = {(n.kind, n.recipient_email.lower(), n.planned_at or n.deliver_after) for n in real}
        calendars = [n.calendar for n in real if n.calendar and n.recipient_email == ARRAS[0]]
    assert sent == {(kind, person, datetime.fromisoformat(planned)) for kind, person, planned in preview["avenir"]}
    _khal_shows_the_new_time(out, khal, [c for c in calendars if c])


def _khal_shows_the_new_time(out: Path, khal: Path, calendars: list[str]) -> None:  # noqa: F811
    config, _ = khal_calendar(out)
    for index, text in enumerate(calendars):
        part = out / f"part-{index}.ics"
        part.write_text(text, encoding="utf-8")
        subprocess.run([str(khal), "-c", str(config), "import", "--batch", "-a", "formations", str(part)],
                       check=True, capture_output=True, timeout=120)
    shown = subprocess.run([str(khal), "-c", str(config), "list", "2015-09-28", "14d"], check=True,
                           capture_output=True, text=True, timeout=120).stdout
    lines = [line for line in shown.splitlines() if "outils pour l'action" in line]
    assert len(lines) == 1 and lines[0].startswith("09:30-"), shown
    assert "2015-10-08" in shown.split(lines[0])[0], shown
