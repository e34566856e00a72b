"""Jury commands: record a juror's score sheet, show the ranking."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from models.clock import format_number
from transitions.cli.common import (
    AtOption,
    ProgrammeOption,
    app,
    command,
    database,
    escape,
    instant,
    out,
    programme_ctx,
)
from transitions.cli.listing import Column, JsonOption, print_json, print_list
from transitions.userfiles import write_text

if TYPE_CHECKING:
    from models.read.report_data import JuryLine, JuryView

jury_app = typer.Typer(help="Le jury : notes et classement.", no_args_is_help=True)
app.add_typer(jury_app, name="jury")


@command(jury_app, "score")
def score(
    file: Annotated[Path, typer.Argument(help="Feuille de notes d'un juré (YAML ou JSON).")],
    at: AtOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Enregistre la feuille de notes d'un juré : tout ou rien."""
    from models.jury import ScoreSheet, record_sheet
    from transitions.userfiles import load_model

    sheet, _ = load_model(file, ScoreSheet, "de notes", refusal=f"Feuille {file.name} refusée")
    with programme_ctx(programme) as ctx:
        changed = record_sheet(ctx, sheet, instant(at))
    out.print(f"{changed} note(s) enregistrée(s) pour {escape(sheet.juror)}.", highlight=False)


@command(jury_app, "dossier")
def dossier(
    file: Annotated[Path, typer.Option("--out", help="Fichier Markdown à écrire.")],
    programme: ProgrammeOption = None,
) -> None:
    """Écrit le dossier du jury : les critères, puis chaque candidature recevable en entier."""
    from models.db import session_scope
    from transitions.report import jury_dossier

    url = database()
    with session_scope(url) as session:
        text, count = jury_dossier(session, programme)
    write_text(file, text)
    out.print(f"Dossier du jury écrit dans {file} ({count} candidature(s)).")


@command(jury_app, "ranking")
def ranking(
    detail: Annotated[bool, typer.Option(
        "--detail", help="Notes par critère et par juré, « n. a. », écarts, nombre de notes, quasi-égalités.")] = False,
    at: AtOption = None,
    as_json: JsonOption = False,
    programme: ProgrammeOption = None,
) -> None:
    """Classe les candidatures recevables par note pondérée."""
    from models.jury import ranking as rank
    from models.read.report_data import applications_at, jury_view, scores_at

    with programme_ctx(programme) as ctx:
        when = instant(at)
        applications = applications_at(ctx.session, ctx, when)
        view = jury_view(ctx, when, applications, scores_at(ctx.session, ctx, when, applications))
        rows = rank(ctx) if at is None else []
    if as_json:
        print_json([_line_json(view, line) for line in view.lines])
        return
    if not view.lines:
        out.print("Aucune candidature recevable.")
        return
    scale, threshold = view.scale_max, format_number(view.threshold)
    if not detail:
        listed = rows
        table_rows = ([{"rang": str(i), "recepisse": r.application.receipt_number, "nom": r.application.lead_name,
                        "note": "—" if r.score is None else format_number(r.score), "manque": str(r.missing)}
                       for i, r in enumerate(listed, start=1)] if listed else
                      [{"rang": str(line.rank), "recepisse": line.application.receipt, "nom": line.application.name,
                        "note": "—" if line.score is None else format_number(line.score),
                        "manque": str(line.missing)} for line in view.lines])
        columns = [Column("Rang", "rang", 4, justify="right"), Column("Récépissé", "recepisse", 15),
                   Column("Chef de file", "nom", 12, ratio=1),
                   Column(f"Note /{scale} (seuil {threshold})", "note", 8, justify="right"),
                   Column("Notes manquantes", "manque", 9, justify="right")]
        print_list(out, columns, table_rows, empty="Aucune candidature recevable.",
                   whole="Détail : --detail ; texte complet : --json.")
        for r in listed:
            if r.excluded:
                out.print(f"Conflit d'intérêts déclaré sur {r.application.receipt_number} : notes de "
                          f"{escape(', '.join(r.excluded))} exclues.", highlight=False)
        return
    jurors = {juror: f"J{index}" for index, (juror, _) in enumerate(view.jurors, start=1)}
    out.print(f"Barème 0 à {scale}, seuil {threshold}, {view.pilots_min} à {view.pilots_max} pilotes. Jurés : "
              + " ; ".join(f"{jurors[j]} = {escape(j)} ({escape(b)})" for j, b in view.jurors) + ".", highlight=False)
    for line in view.lines:
        flag = f" [bold yellow]{escape(line.near_tie)}[/]" if line.near_tie else ""
        out.print(f"\n[bold]{line.rank}. {line.application.receipt} — {escape(line.application.name)}[/] : "
                  f"{'—' if line.score is None else format_number(line.score)}/{scale} sur {line.count} note(s) "
                  f"/ {line.expected} ; {line.application.status_label}.{flag}", highlight=False)
        if line.excluded:
            out.print(f"Conflit d'intérêts : notes de {escape(', '.join(line.excluded))} exclues.", highlight=False)
        columns = [Column("Critère", "critere", 10, ratio=1), Column("Coef.", "coef", 5, justify="right")]
        columns += [Column(code, code, 4, justify="right") for code in jurors.values()]
        columns += [Column("Moy. (n)", "moy", 9, justify="right"), Column("Écart", "ecart", 5, drop=1)]
        cells = []
        for key, label, weight in view.criteria:
            mean, count = line.criterion_means[key]
            row = {"critere": label, "coef": str(weight), "moy": f"{format_number(mean) if mean is not None else '—'}"
                   f" ({count})", "ecart": "écart" if key in line.divergent else ""}
            for juror, code in jurors.items():
                row[code] = line.cell(juror, key)
            cells.append(row)
        total = {"critere": "moyenne pondérée", "coef": "", "ecart": "",
                 "moy": f"{'—' if line.score is None else format_number(line.score)} ({line.count})"}
        for juror, code in jurors.items():
            mean, count = line.juror_means[juror]
            total[code] = "—" if mean is None else format_number(mean)
        print_list(out, columns, [*cells, total], empty="")
    out.print("\nn. a. : non applicable (déclaré par le juré) ; — : pas encore noté ; "
              "écart : jurés distants d'au moins 2 points sur ce critère. "
              "Texte complet : --json.")


def _line_json(view: JuryView, line: JuryLine) -> dict[str, object]:
    return {"rang": line.rank, "recepisse": line.application.receipt, "siren": line.application.siren,
            "chef_de_file": line.application.name, "note_ponderee": line.score, "nb_notes": line.count,
            "notes_attendues": line.expected, "seuil": view.threshold, "decision_code": line.application.status,
            "decision": line.application.status_label, "a_surveiller": line.near_tie,
            "ecarts_entre_jures": line.divergent, "conflits_d_interets": line.excluded,
            "notes": {juror: {key: line.scores[(juror, key)] for key, _, _ in view.criteria}
                      for juror, _ in view.jurors},
            "moyennes_par_critere": {k: {"moyenne": m, "nb_notes": n} for k, (m, n) in line.criterion_means.items()},
            "moyennes_par_jure": {j: {"moyenne_ponderee": m, "nb_notes": n} for j, (m, n) in line.juror_means.items()}}


@command(jury_app, "decide")
def decide(
    secretary: Annotated[str, typer.Option("--secretary", help="Nom du ou de la secrétaire du jury.")],
    confirm: Annotated[bool, typer.Option("--confirm", help="Confirme la proposition du classement.")] = False,
    select: Annotated[str | None, typer.Option(
        "--select", help="Sinon : SIREN ou récépissés des territoires retenus, séparés par des virgules.")] = None,
    rationale: Annotated[str, typer.Option(
        "--rationale", help="Motif (obligatoire pour s'écarter de la proposition).")] = "",
    at: AtOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Enregistre la décision du jury : confirme la proposition du classement, ou s'en écarte avec un motif."""
    from models.decision import decide as record
    from models.errors import InvalidInput
    from models.pilots import pilots

    if confirm == (select is not None):
        raise InvalidInput("Choisissez soit --confirm (la proposition du jury), soit --select (d'autres territoires).")
    chosen = None if select is None else select.split(",")
    with programme_ctx(programme) as ctx:
        changed = record(ctx, chosen=chosen, rationale=rationale, by=secretary, at=instant(at))
        retained = [p.name for p in pilots(ctx)]
    word = "enregistrée" if changed else "déjà enregistrée"
    out.print(f"Décision du jury {word} : {escape(', '.join(retained))}.", highlight=False)
