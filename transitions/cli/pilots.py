"""Commands for the accompaniment: charter signatures, attendance, deliverables, calendar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from models.errors import InvalidInput
from models.wording import os_reason
from transitions.cli.common import (
    AtOption,
    ByOption,
    ProgrammeOption,
    app,
    cli_actor,
    command,
    database,
    escape,
    instant,
    line_option,
    out,
    programme_ctx,
    write_csv,
)
from transitions.cli.listing import Column, JsonOption, print_json, print_list, short_day

PilotArgument = Annotated[str, typer.Argument(help="Territoire pilote : SIREN, récépissé ou nom exact.")]


@command(app)
def sign(
    pilot: PilotArgument,
    party: Annotated[str, typer.Option("--party", help="territoire, cerdd ou prestataire.")],
    signatory: Annotated[str, typer.Option("--signatory", help="Nom du ou de la signataire.")],
    role: Annotated[str, typer.Option("--role", help="Qualité du ou de la signataire (ex. Président).")] = "",
    sha256: Annotated[str | None, typer.Option(
        "--sha256", help="Empreinte SHA-256 du texte lu par le ou la signataire (voir « charter certificate ») : "
                         "refusée si le texte à signer est un autre.")] = None,
    at: AtOption = None,
    by: ByOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Enregistre la signature de la charte par une des trois parties (le texte figé à la première
    signature)."""
    from models import charter, charter_text, pilots

    signatory = line_option(signatory, "Nom du ou de la signataire (--signatory)")
    with programme_ctx(programme) as ctx:
        found = pilots.find_pilot(ctx, pilot)
        changed = charter.sign_charter(ctx, found, party=party, signatory=signatory, role=role, at=instant(at),
                                       channel=charter.Channel.CLI, via=(cli_actor(by), ""), sha256=sha256)
        signed = set(charter.signatures(ctx, found))
        missing = [charter.party_name(p) for p in ctx.definition.accompaniment.charter.parties if p not in signed]
        name, digest = found.name, charter_text.charter_sha256(ctx, found)
    word = "enregistrée" if changed else "déjà enregistrée"
    rest = f" ; reste à signer : {', '.join(missing)}." if missing else " ; la charte est complète."
    out.print(f"Signature {word} pour {escape(name)}{rest}\nTexte signé : SHA-256 {digest}", highlight=False)


@command(app)
def attend(
    pilot: PilotArgument,
    session_key: Annotated[str, typer.Argument(help="Clé de la session (ex. formation-1).")],
    person: Annotated[str, typer.Argument(help="Nom de la personne.")],
    organisation: Annotated[str, typer.Option("--organisation", help="Sa structure.")],
    absent: Annotated[bool, typer.Option("--absent", help="La personne était absente.")] = False,
    at: AtOption = None,
    by: ByOption = None,
    programme: ProgrammeOption = None,
) -> None:
    """Émarge une personne (présente, ou absente avec --absent) à une session."""
    from models import pilots, training

    person = line_option(person, "Émargement refusé : nom de la personne")
    organisation = line_option(organisation, "Émargement refusé : structure (--organisation)")
    with programme_ctx(programme) as ctx:
        training_session = training.find_session(ctx, pilots.find_pilot(ctx, pilot), session_key)
        changed = training.record_attendance(ctx, training_session, person=person, organisation=organisation,
                                             present=not absent, at=instant(at), by=cli_actor(by))
        title = training_session.title
    state = "absente" if absent else "présente"
    word = "enregistré" if changed else "déjà enregistré"
    out.print(f"Émargement {word} : {escape(person)} {state} à « {escape(title)} ».", highlight=False)


@command(app, "deliverables")
def list_deliverables(
    pilot: Annotated[str | None, typer.Option("--pilot", help="Un seul territoire pilote.")] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Exporte aussi en CSV (UTF-8, « ; »).")] = None,
    at: AtOption = None,
    as_json: JsonOption = False,
    programme: ProgrammeOption = None,
) -> None:
    """Liste les livrables du prestataire, leurs échéances et leur état."""
    from models.read.deliverables import deliverable_rows

    with programme_ctx(programme) as ctx:
        rows = deliverable_rows(ctx, instant(at), pilot)
    if csv_file is not None:  # written first: a refusal then comes before any listing
        from transitions.exports import csv_cell  # ISO 8601 in Paris time: a spreadsheet sorts it

        exported = [{"echeance": csv_cell(r.due_at), "pilote": r.pilot, "cle": r.key, "livrable": r.title,
                     "etat": r.state, "remis_le": csv_cell(r.delivered_at)} for r in rows]
        write_csv(csv_file, exported, ["echeance"])
    if as_json:
        print_json([{"pilote": r.pilot, "cle": r.key, "livrable": r.title, "echeance": r.due_at,
                     "remis_le": r.delivered_at, "etat": r.state} for r in rows])
        return
    columns = [Column("Échéance", "echeance", 10), Column("Pilote", "pilote", 10, max_width=26, ratio=1),
               Column("Clé", "cle", 18), Column("Livrable", "livrable", 12, ratio=2),
               Column("État", "etat", 9), Column("Remis le", "remis_le", 10, drop=1)]
    columns = [c for c in columns if not (pilot and c.key == "pilote")]  # one pilot: its name is known
    print_list(out, columns, [{"echeance": short_day(r.due_at), "pilote": r.pilot, "cle": r.key, "livrable": r.title,
                               "etat": r.state, "remis_le": short_day(r.delivered_at)} for r in rows],
               empty="Aucun livrable : aucun accompagnement n'a encore commencé.", whole="Texte complet : --json.")
    if csv_file is not None:
        out.print(f"{len(rows)} livrable(s) exporté(s) dans {csv_file}.")


command(app, "tasks", hidden=True, help="Ancien nom de « deliverables ».")(list_deliverables)


@command(app)
def calendar(
    file: Annotated[Path, typer.Option("--out", help="Fichier .ics à écrire.")],
    pilot: Annotated[str | None, typer.Option("--pilot", help="Un seul territoire pilote.")] = None,
    person: Annotated[str | None, typer.Option(
        "--person", help="Adresse e-mail : les sessions de cette personne seulement.")] = None,
    programme: ProgrammeOption = None,
) -> None:
    """Exporte les sessions et les échéances des livrables au format iCalendar (.ics)."""
    pilot = None if pilot is None else line_option(pilot, "--pilot")
    person = None if person is None else line_option(person, "--person")
    from datetime import UTC, datetime

    from models.db import session_scope
    from transitions.calendar_export import build_calendar

    url = database()
    with session_scope(url) as session:
        data = build_calendar(session, programme, datetime.now(UTC), pilot=pilot, person=person)
    try:
        file.write_bytes(data)
    except OSError as exc:
        raise InvalidInput(f"Impossible d'écrire {file} : {os_reason(exc)}.") from None
    out.print(f"Calendrier écrit dans {file} ({data.count(b'BEGIN:VEVENT')} événements).")
