"""Exports for spreadsheets and analysis: one table per kind of fact, true at an instant.

Rules: dates in their own columns, ISO 8601 in Paris time (`2015-05-07T12:00:00+02:00`; in .xlsx a
real date cell in Paris wall-clock time); codes and their French labels in separate columns; one
fact per cell; text that a spreadsheet would run as a formula is neutralised; CSV in UTF-8 with a
BOM and « ; » separators, decimals with a comma, as French Excel expects.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from models.clock import paris
from models.context import ProgrammeContext
from models.errors import InvalidInput
from models.read.report_data import (
    applications_at,
    attendance_at,
    audit_at,
    item_label,
    jury_view,
    notices_at,
    pilot_views,
    scores_at,
)
from models.tables import label
from models.wording import os_reason

Value = str | int | float | bool | datetime | None
Row = dict[str, Value]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _applications(ctx: ProgrammeContext, as_of: datetime) -> list[Row]:
    return [{"recepisse": a.receipt, "siren": a.siren, "chef_de_file": a.name, "nature_code": a.kind,
             "version": a.version, "premier_depot": a.first_submitted_at, "dernier_depot": a.last_submitted_at,
             "statut_code": a.status, "statut": a.status_label, "decide_le": a.decided_at, "motif": a.reason,
             "nb_avertissements": len(a.warnings), "avertissements": "\n".join(a.warnings)}
            for a in applications_at(ctx.session, ctx, as_of)]


def _scores(ctx: ProgrammeContext, as_of: datetime) -> list[Row]:
    scale = ctx.definition.jury.scale_max
    return [{"recepisse": s.receipt, "chef_de_file": s.name, "jure": s.juror, "organisme": s.body,
             "critere_code": s.criterion, "critere": s.criterion_label, "coefficient": s.weight, "note": s.score,
             "bareme_max": scale, "commentaire": s.comment, "enregistree_le": s.recorded_at}
            for s in scores_at(ctx.session, ctx, as_of, applications_at(ctx.session, ctx, as_of))]


def _ranking(ctx: ProgrammeContext, as_of: datetime) -> list[Row]:
    applications = applications_at(ctx.session, ctx, as_of)
    view = jury_view(ctx, as_of, applications, scores_at(ctx.session, ctx, as_of, applications))
    rows: list[Row] = []
    for line in view.lines:
        row: Row = {"rang": line.rank, "recepisse": line.application.receipt, "siren": line.application.siren,
                    "chef_de_file": line.application.name, "note_ponderee": line.score, "nb_notes": line.count,
                    "notes_attendues": line.expected, "notes_manquantes": line.missing, "seuil": view.threshold,
                    "atteint_le_seuil": None if line.score is None else line.score >= view.threshold,
                    "ecarts_entre_jures": ", ".join(line.divergent), "a_surveiller": line.near_tie,
                    "decision_code": line.application.status, "decision": line.application.status_label}
        for key, _, _ in view.criteria:
            mean, count = line.criterion_means[key]
            row[f"moyenne_{key}"] = mean
            row[f"nb_notes_{key}"] = count
        for juror, _ in view.jurors:
            row[f"moyenne_ponderee_{juror}"] = line.juror_means[juror][0]
        rows.append(row)
    return rows


def _pilots(ctx: ProgrammeContext, as_of: datetime) -> list[Row]:
    rows: list[Row] = []
    for p in pilot_views(ctx, as_of):
        g = p.progress
        rows.append({"siren": p.siren, "recepisse": p.receipt, "pilote": p.name, "rang": p.rank,
                     "statut_code": p.status, "statut": p.status_label, "retenu_le": p.selected_at,
                     "lancement": p.kickoff_at, "fin_prevue": p.ends_at if p.kickoff_at else None,
                     "termine_le": p.finished_at, "duree_ecoulee_pct": g.elapsed_percent,
                     "phase_en_cours": g.current_phase or "", "phases_terminees": g.phases_done,
                     "phases_total": g.phases_total, "jalons_atteints": g.milestones_reached,
                     "jalons_total": g.milestones_total, "sessions_tenues": g.sessions_held,
                     "sessions_total": g.sessions_total, "presents": g.attendance_present,
                     "emargements": g.attendance_recorded, "livrables_a_l_heure": g.deliverables_on_time,
                     "livrables_remis_en_retard": g.deliverables_late,
                     "livrables_en_retard_non_remis": g.deliverables_overdue,
                     "livrables_total": g.deliverables_total, "elements_en_retard": len(p.late)})
    return rows


def _sessions(ctx: ProgrammeContext, as_of: datetime) -> list[Row]:
    return [{"siren": p.siren, "pilote": p.name, "cle": s.key, "session": s.title, "lieu": s.location,
             "debut": s.start, "fin": s.end, "etat_code": s.state, "etat": s.state_label, "presents": s.present,
             "absents": s.absent} for p in pilot_views(ctx, as_of) for s in p.sessions]


def _attendance(ctx: ProgrammeContext, as_of: datetime) -> list[Row]:
    return [{"siren": a.siren, "pilote": a.pilot, "session_cle": a.session_key, "session": a.session_title,
             "session_debut": a.starts_at, "personne": a.person, "structure": a.organisation,
             "presence_code": "present" if a.present else "absent", "presence": "présent(e)" if a.present
             else "absent(e)", "enregistre_le": a.recorded_at}
            for a in attendance_at(ctx, as_of, pilot_views(ctx, as_of))]


def _deliverables(ctx: ProgrammeContext, as_of: datetime) -> list[Row]:
    rows: list[Row] = []
    for p in pilot_views(ctx, as_of):
        for d in p.deliverables:
            end = d.done_at or as_of
            late_days = max(0, (paris(end).date() - paris(d.start).date()).days) if end > d.start else 0
            rows.append({"siren": p.siren, "pilote": p.name, "cle": d.key, "livrable": d.title, "echeance": d.start,
                         "remis_le": d.done_at, "etat_code": d.state, "etat": item_label(d.state),
                         "jours_de_retard": late_days})
    return sorted(rows, key=lambda r: (str(r["echeance"]), str(r["pilote"])))


def _notices(ctx: ProgrammeContext, as_of: datetime) -> list[Row]:
    return [{"numero": n.id, "type_code": n.kind, "type": n.kind_label, "destinataire": n.recipient_email,
             "nom": n.recipient_name, "objet": n.subject, "statut_code": n.status, "statut": label(n.status),
             "essais": n.attempts, "cree_le": n.created_at, "envoye_le": n.sent_at, "erreur": n.error}
            for n in notices_at(ctx.session, ctx, as_of)]


def _audit(ctx: ProgrammeContext, as_of: datetime) -> list[Row]:
    return [{"numero": e.id, "quand": e.at, "enregistre_le": e.recorded_at, "qui": e.actor, "action": e.action,
             "entite": e.entity, "entite_id": e.entity_id, "resume": e.summary}
            for e in audit_at(ctx.session, ctx, as_of)]


KINDS: dict[str, tuple[Callable[[ProgrammeContext, datetime], list[Row]], list[str]]] = {
    "applications": (_applications, ["recepisse"]),
    "scores": (_scores, ["recepisse"]),
    "ranking": (_ranking, ["rang"]),
    "pilots": (_pilots, ["siren"]),
    "sessions": (_sessions, ["siren"]),
    "attendance": (_attendance, ["siren"]),
    "deliverables": (_deliverables, ["siren"]),
    "notices": (_notices, ["numero"]),
    "audit": (_audit, ["numero"]),
}
"""Each kind of export: its rows and the header written when there are none."""


def export_rows(ctx: ProgrammeContext, kind: str, as_of: datetime) -> tuple[list[Row], list[str]]:
    """The rows of one export (and its header), true at `as_of`."""
    if kind not in KINDS:
        raise InvalidInput(f"Export inconnu « {kind} » (exports : {', '.join(KINDS)}).")
    build, empty = KINDS[kind]
    rows = build(ctx, as_of)
    return rows, list(rows[0]) if rows else empty


def neutralise(text: str) -> str:
    """Text a spreadsheet keeps as text: a leading =, +, -, @ would otherwise start a formula."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: Value) -> str:
    """One cell of the French CSV: ISO dates in Paris time, decimal comma, oui/non."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime):
        return paris(value).isoformat(timespec="seconds")
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return neutralise(value)


def write_export(path: Path, rows: list[Row], header: list[str], file_format: str) -> None:
    """Write the rows as CSV (UTF-8 with BOM, « ; ») or as an Excel workbook (.xlsx)."""
    try:
        if file_format == "xlsx":
            _write_xlsx(path, rows, header)
        else:
            with path.open("w", encoding="utf-8-sig", newline="") as handle:
                writer = csv.writer(handle, delimiter=";")
                writer.writerow(header)
                writer.writerows([csv_cell(row.get(name)) for name in header] for row in rows)
    except OSError as exc:
        raise InvalidInput(f"Impossible d'écrire {path} : {os_reason(exc)}.") from None


def _write_xlsx(path: Path, rows: list[Row], header: list[str]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = path.stem[:31] or "export"
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, row in enumerate(rows, start=2):
        for column, name in enumerate(header, start=1):
            value = row.get(name)
            cell = sheet.cell(row=index, column=column)
            if isinstance(value, bool):
                cell.value = "oui" if value else "non"
            elif isinstance(value, datetime):
                cell.value = paris(value).replace(tzinfo=None)  # Excel has no time zones: Paris wall clock
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
            elif isinstance(value, str):
                cell.value = value
                cell.data_type = "s"  # stored as text: never run as a formula, whatever it starts with
                if value.startswith(FORMULA_STARTS):
                    cell.quotePrefix = True
            else:
                cell.value = value
    sheet.freeze_panes = "A2"
    book.save(path)


def export(ctx: ProgrammeContext, kind: str, as_of: datetime, path: Path, file_format: str) -> int:
    """Write one export; returns the number of rows."""
    rows, header = export_rows(ctx, kind, as_of)
    write_export(path, rows, header, file_format)
    return len(rows)


MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def export_bytes(ctx: ProgrammeContext, kind: str, as_of: datetime, file_format: str) -> bytes:
    """One export as the bytes `export` writes (the back office's downloads); InvalidInput for an
    unknown kind or format."""
    if file_format not in MEDIA_TYPES:
        raise InvalidInput(f"Format inconnu « {file_format[:10]} » (formats : csv, xlsx).")
    rows, header = export_rows(ctx, kind, as_of)
    with tempfile.TemporaryDirectory(prefix="transitions-export-") as folder:
        path = Path(folder) / f"{kind}.{file_format}"
        write_export(path, rows, header, file_format)
        return path.read_bytes()
