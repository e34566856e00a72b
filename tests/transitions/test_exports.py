"""Exports round-trip through a CSV reader and openpyxl with the facts of the database, at an
instant; formulas are neutralised; every list command fits 80 columns."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlmodel import col, select

from models.clock import paris
from models.context import load_ctx
from models.db import session_scope
from models.history import History
from models.tables import (
    Application,
    Attendance,
    AuditEntry,
    Deliverable,
    JuryScore,
    Notice,
    Pilot,
    TrainingSession,
)
from tests.conftest import at
from transitions.exports import KINDS, export, write_export

INSTANTS = ("2015-05-01T09:00", "2015-06-02T12:00", "2015-10-15T09:00", "2016-08-01T09:00")


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "BOM UTF-8 attendu pour Excel"
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def read_xlsx(path: Path) -> list[dict[str, object]]:
    sheet = load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    header = [str(h) for h in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def iso(value: datetime | None) -> str:
    return paris(value).isoformat(timespec="seconds") if value else ""


def wall(value: datetime | None) -> datetime | None:
    return paris(value).replace(tzinfo=None) if value else None


@pytest.mark.parametrize("instant", INSTANTS)
def test_exports_hold_the_facts_of_the_database_at_the_instant(replayed: tuple[Path, str], tmp_path: Path,
                                                                instant: str) -> None:
    _, url = replayed
    when = at(instant)
    files: dict[str, tuple[list[dict[str, str]], list[dict[str, object]]]] = {}
    with session_scope(url) as session:
        ctx = load_ctx(session)
        for kind in KINDS:
            export(ctx, kind, when, tmp_path / f"{kind}.csv", "csv")
            export(ctx, kind, when, tmp_path / f"{kind}.xlsx", "xlsx")
            files[kind] = (read_csv(tmp_path / f"{kind}.csv"), read_xlsx(tmp_path / f"{kind}.xlsx"))
        applications = session.exec(select(Application).where(Application.first_submitted_at <= when)).all()
        scores = session.exec(select(JuryScore).where(JuryScore.recorded_at <= when)).all()
        pilots = session.exec(select(Pilot).where(Pilot.selected_at <= when)).all()
        started = [p.id for p in pilots if p.kickoff_at and p.kickoff_at <= when]
        past = History(session, ctx.programme_id, when)  # a due date moved after `when` is shown as it was
        deliverables = past.all(session.exec(select(Deliverable).where(col(Deliverable.pilot_id).in_(started))).all())
        sessions = session.exec(select(TrainingSession).where(col(TrainingSession.pilot_id).in_(started))).all()
        attendance = session.exec(select(Attendance).where(Attendance.recorded_at <= when)).all()
        notices = session.exec(select(Notice).where(Notice.created_at <= when)).all()
        audit = session.exec(select(AuditEntry).where(AuditEntry.at <= when)).all()
        receipts = {a.id: a.receipt_number for a in applications}

    for kind, (rows, cells) in files.items():
        assert len(rows) == len(cells), kind
    assert {r["recepisse"] for r in files["applications"][0]} == set(receipts.values())
    assert len(files["scores"][0]) == len(scores)
    by_key = {(receipts[s.application_id], s.juror, s.criterion): s for s in scores}
    for row, cell in zip(*files["scores"], strict=True):
        fact = by_key[(row["recepisse"], row["jure"], row["critere_code"])]
        assert int(row["note"]) == fact.score == cell["note"]
        assert row["enregistree_le"] == iso(fact.recorded_at) and cell["enregistree_le"] == wall(fact.recorded_at)
        assert row["critere"] and row["critere"] != row["critere_code"]  # the label beside the code
    assert len(files["pilots"][0]) == len(pilots)
    assert len(files["sessions"][0]) == len(sessions)
    assert len(files["attendance"][0]) == len(attendance)
    assert sum(int(r["presents"]) for r in files["sessions"][0]) == sum(a.present for a in attendance)
    assert len(files["deliverables"][0]) == len(deliverables)
    delivered = {(d.pilot_id, d.key): d for d in deliverables}
    names = {p.id: p.name for p in pilots}
    for row, cell in zip(*files["deliverables"], strict=True):
        fact = next(d for (pid, key), d in delivered.items() if key == row["cle"] and names[pid] == row["pilote"])
        handed = fact.delivered_at if fact.delivered_at and fact.delivered_at <= when else None
        assert row["echeance"] == iso(fact.due_at) and cell["echeance"] == wall(fact.due_at)
        assert row["remis_le"] == iso(handed) and cell["remis_le"] == wall(handed)
        assert row["etat_code"] in ("a_venir", "remis", "remis_en_retard", "en_retard") and row["etat"]
    assert len(files["notices"][0]) == len(notices)
    sent = sum(1 for n in notices if n.sent_at and n.sent_at <= when)
    assert sum(1 for r in files["notices"][0] if r["statut_code"] == "envoye") == sent
    assert len(files["audit"][0]) == len(audit)
    assert [r["quand"] for r in files["audit"][0]] == sorted(r["quand"] for r in files["audit"][0])


def test_ranking_export_matches_the_jury(replayed: tuple[Path, str], tmp_path: Path) -> None:
    from models.jury import ranking

    _, url = replayed
    with session_scope(url) as session:
        ctx = load_ctx(session)
        export(ctx, "ranking", at("2016-08-01T09:00"), tmp_path / "r.csv", "csv")
        expected = [(r.application.receipt_number, r.score) for r in ranking(ctx)]
        statuses = {r.application.receipt_number: r.application.status for r in ranking(ctx)}
    rows = read_csv(tmp_path / "r.csv")
    assert [(r["recepisse"], float(r["note_ponderee"].replace(",", "."))) for r in rows] == expected
    assert [r["decision_code"] for r in rows] == [statuses[r["recepisse"]] for r in rows]
    assert rows[0]["decision"] == "retenue" and "retenue" in {r["decision"] for r in rows[1:]}
    assert rows[0]["nb_notes"] == "15" and rows[0]["notes_manquantes"] == "0"


def test_formulas_are_neutralised_and_one_fact_per_cell(tmp_path: Path) -> None:
    when = datetime(2015, 5, 7, 10, 0, tzinfo=UTC)
    rows: list[dict[str, object]] = [{"texte": "=HYPERLINK(\"http://x\")", "moins": "-2+3", "arobase": "@SUM(A1)",
                                      "date": when, "nombre": 2.5, "oui": True}]
    header = list(rows[0])
    write_export(tmp_path / "x.csv", rows, header, "csv")  # type: ignore[arg-type]
    write_export(tmp_path / "x.xlsx", rows, header, "xlsx")  # type: ignore[arg-type]
    row = read_csv(tmp_path / "x.csv")[0]
    assert row == {"texte": "'=HYPERLINK(\"http://x\")", "moins": "'-2+3", "arobase": "'@SUM(A1)",
                   "date": "2015-05-07T12:00:00+02:00", "nombre": "2,5", "oui": "oui"}
    sheet = load_workbook(tmp_path / "x.xlsx").active
    assert sheet is not None
    cells = {sheet.cell(1, i).value: sheet.cell(2, i) for i in range(1, 7)}
    assert cells["texte"].data_type == "s" and cells["texte"].value == "=HYPERLINK(\"http://x\")"
    assert cells["moins"].data_type == "s" and cells["arobase"].data_type == "s"
    assert cells["date"].value == datetime(2015, 5, 7, 12, 0) and cells["nombre"].value == 2.5


LISTS = [
    ["applications"], ["deliverables"], ["sessions"], ["audit", "--limit", "200"], ["outbox", "list", "--limit", "200"],
    ["jury", "ranking"], ["jury", "ranking", "--detail"], ["status"],
]


def _cli(url: str, args: list[str], columns: str = "80") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "COLUMNS": columns, "PYTHONPATH": str(Path(__file__).parents[2])}
    return subprocess.run([sys.executable, "-c", "from transitions.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("args", LISTS, ids=[" ".join(a) for a in LISTS])
def test_every_list_fits_80_columns_and_has_json(replayed: tuple[Path, str], args: list[str]) -> None:
    _, url = replayed
    done = _cli(url, args)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) > 3
    too_long = [line for line in lines if len(line) > 80]
    assert too_long == [], "\n".join(too_long)
    if args != ["status"]:
        listed = _cli(url, [*args, "--json"])
        assert listed.returncode == 0, listed.stderr
        assert isinstance(json.loads(listed.stdout), list) and json.loads(listed.stdout)
