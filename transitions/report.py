"""French reports for Cerdd project managers in the terminal: programme status, applications,
an application's history and content, the jury's reading file."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table
from sqlmodel import Session, col, select

from models.clock import format_paris
from models.context import load_ctx
from models.forms import Representative
from models.notices import LABELS, NoticeKind
from models.read.status import Status, application_rows, build_status
from models.tables import Application, label
from reports.dashboard import dashboard_markdown
from transitions.cli.common import escape

__all__ = ["application_rows", "build_status", "dashboard_markdown", "jury_dossier", "print_application",
           "print_history", "print_rows", "print_status"]


NOTE_WIDTH = 30
"""Characters of a reason surely shown whole beside the other columns at 80 columns."""


def print_rows(console: Console, rows: list[dict[str, str]]) -> None:
    if not rows:
        console.print("Aucune candidature.")
        return
    """The applications, one line each at any width: the reason or warnings are cut with « … » (the
    first of several warnings, with how many more), and a line after the table says where to read
    them whole (`transitions applications --show RÉCÉPISSÉ`)."""
    others = {"Récépissé": "recepisse", "Chef de file": "chef_de_file", "Version": "version", "Statut": "statut"}
    natural = {h: max([len(h)] + [len(row[k]) for row in rows]) for h, k in others.items()}
    room = max(12, console.width - sum(natural.values()) - 3 * (len(others) + 1) - 1)
    table = Table()
    for header in others:
        table.add_column(header, min_width=min(natural[header], 12))
    table.add_column("Motif / avertissements", no_wrap=True, overflow="ellipsis", max_width=room)
    shortened = False
    for row in rows:
        lines = (row["motif"] or row["avertissements"]).splitlines()
        note = lines[0] + (f" (+{len(lines) - 1})" if len(lines) > 1 else "") if lines else ""
        shortened = shortened or len(lines) > 1 or len(note) > NOTE_WIDTH
        table.add_row(row["recepisse"], escape(row["chef_de_file"]), row["version"], row["statut"], escape(note))
    console.print(table)
    if shortened:
        console.print("Motifs et avertissements complets : transitions applications --show RÉCÉPISSÉ.",
                      highlight=False)


def print_history(console: Console, session: Session, reference: str, slug: str | None = None) -> None:
    from models.applications import history
    from models.jury import find_application

    application = find_application(load_ctx(session, slug), reference)
    reason = f" ({application.decision_reason})" if application.decision_reason else ""
    console.print(f"[bold]{application.receipt_number}[/] — {escape(application.lead_name)} : "
                  f"{label(application.status)}{escape(reason)}", highlight=False)
    table = Table("Version", "Déposée le", "Par", "Pièces", "Avertissements")
    for item in history(session, application):
        table.add_row(str(item.version), format_paris(item.submitted_at), escape(item.submitted_by),
                      escape("\n".join(item.files)), escape("\n".join(item.warnings)))
    console.print(table)


def print_application(console: Console, session: Session, reference: str, slug: str | None = None) -> None:
    """The current version of an application, section by section, as the jury reads it."""
    from models.forms import form_of
    from models.jury import find_application

    application = find_application(load_ctx(session, slug), reference)
    form = form_of(session, application)
    lead = form.collectivite_chef_de_file

    def people(title: str, persons: list[Representative]) -> None:
        console.print(f"\n[bold]{title}[/]")
        for p in persons:
            phone = f", {p.telephone}" if p.telephone else ""
            console.print(f"  - {escape(p.nom)}, {escape(p.qualite)} — {escape(p.courriel)}{phone}", highlight=False)

    console.print(f"[bold]{application.receipt_number}[/] — version {application.version}, "
                  f"{format_paris(application.last_submitted_at)} — {label(application.status)}", highlight=False)
    console.print(f"\n[bold]Collectivité chef de file[/] : {escape(lead.nom)} (SIREN {lead.siren}), "
                  f"{escape(lead.adresse)} — {escape(lead.courriel)}, {lead.telephone}", highlight=False)
    people("Responsables opérationnels", form.responsables_operationnels)
    people("Référents politiques", form.referents_politiques)
    people("Référents techniques", form.referents_techniques)
    console.print(f"\n[bold]Point contact technique du Cerdd[/] : {escape(form.point_contact_cerdd)}", highlight=False)
    console.print("\n[bold]Partenaires[/]")
    for partner in form.partenaires or []:
        console.print(f"  - {escape(partner.nom)} ({label(partner.type.value)})", highlight=False)
    if not form.partenaires:
        console.print("  aucun")
    for title, text in (("Motivations", form.motivations), ("Thèmes : " + form.theme_labels(), form.pistes_de_travail),
                        ("Partenaires potentiels et acteurs clefs", form.partenaires_potentiels),
                        ("Principaux besoins identifiés", form.besoins)):
        console.print(f"\n[bold]{escape(title)}[/]\n{escape(text)}", highlight=False)
    if application.warnings:
        console.print("\n[bold yellow]Points d'attention[/]")
        for warning in application.warnings:
            console.print(f"  - {escape(warning)}", highlight=False)


def print_status(console: Console, status: Status) -> None:
    console.print(f"[bold]{escape(status.programme)}[/]", highlight=False)
    console.print(f"Au {format_paris(status.as_of)} : {status.stage}.", highlight=False)
    if status.next_due:
        console.print(f"Prochaine échéance : {format_paris(status.next_due)}.")
    counts = Counter(row["statut"] for row in status.applications)
    console.print(f"\n[bold]Candidatures[/] : {len(status.applications)} reçue(s) "
                  f"— {counts['recevable'] + counts['retenue'] + counts['non retenue']} "
                  f"recevable(s), {counts['non recevable']} non recevable(s), "
                  f"{len(status.refused_at_door)} refusée(s) au guichet.")
    print_rows(console, status.applications)
    for line in status.refused_at_door:
        console.print(f"  Refus au guichet : {escape(line)}", highlight=False)
    if status.progress:
        console.print("\n[bold]Territoires pilotes[/]")
        table = Table("Pilote", "Statut", "Durée écoulée", "Phases", "Jalons", "Sessions (présence)",
                      "Livrables : à l'heure / en retard / non remis")
        for p in status.progress:
            attendance = f" ({p.attendance_percent} %)" if p.attendance_percent is not None else ""
            table.add_row(escape(p.pilot), label(p.status), f"{p.elapsed_percent} %",
                          f"{p.phases_done}/{p.phases_total}", f"{p.milestones_reached}/{p.milestones_total}",
                          f"{p.sessions_held}/{p.sessions_total}{attendance}",
                          f"{p.deliverables_on_time} / {p.deliverables_late} / {p.deliverables_overdue} "
                          f"(sur {p.deliverables_total})")
        console.print(table)
    if status.steps:
        console.print("\n[bold]Prochaines étapes[/]")
        for step in status.steps:
            flag = " [red](en retard)[/]" if step.late else ""
            console.print(f"  {format_paris(step.when)} — {escape(step.pilot)} : {escape(step.what)}{flag}",
                          highlight=False)
    console.print(f"\n[bold]Avis envoyés[/] : {sum(status.notices.values())} en {status.messages} message(s) "
                  f"(en attente : {status.pending_notices}, abandonnés : {status.dead_notices})")
    table = Table("Type d'avis", "Envoyés")
    for kind in NoticeKind:
        if status.notices.get(kind.value):
            table.add_row(LABELS[kind], str(status.notices[kind.value]))
    console.print(table)


def jury_dossier(session: Session, slug: str | None = None) -> tuple[str, int]:
    """The jury's reading file in Markdown (criteria, then every admissible application in full),
    and how many applications it holds."""
    from models.clock import format_number
    from models.forms import form_of
    from models.tables import ApplicationStatus

    ctx = load_ctx(session, slug)
    jury = ctx.definition.jury
    applications = session.exec(select(Application).where(
        Application.programme_id == ctx.programme_id,
        col(Application.status).in_([ApplicationStatus.ADMISSIBLE, ApplicationStatus.SELECTED,
                                     ApplicationStatus.NOT_SELECTED])).order_by(col(Application.id))).all()
    lines = [f"# Dossier du jury — {ctx.programme.title}", "",
             f"Réunion du jury : {format_paris(jury.meeting)}. Barème de 0 à {jury.scale_max} par critère ; "
             f"seuil {format_number(jury.threshold)} ; {jury.pilots.min} à {jury.pilots.max} territoires pilotes.", "",
             "## Critères", ""]
    lines += [f"- {c.label} (coefficient {c.weight}, clé `{c.key}`)" for c in jury.criteria]
    for application in applications:
        form = form_of(session, application)
        lead = form.collectivite_chef_de_file
        profile = application.partnership
        lines += ["", f"## {application.receipt_number} — {_text(lead.nom)}", "",
                  f"SIREN {lead.siren} ; version {application.version} du "
                  f"{format_paris(application.last_submitted_at)}.",
                  "", f"**Partenariat** : {profile.get('communes', 0)} commune(s), réseau d'entreprises : "
                  f"{'oui' if profile.get('reseau_entreprises') else 'non'}, ingénierie territoriale : "
                  f"{'oui' if profile.get('ingenierie_territoriale') else 'non'}.", ""]
        lines += [f"- {_text(p.nom)} ({label(p.type.value)})" for p in form.partenaires] or ["- aucun partenaire"]
        for title, text in (("Motivations", form.motivations),
                            (f"Thèmes et pistes de travail ({form.theme_labels()})", form.pistes_de_travail),
                            ("Partenaires potentiels et acteurs clefs", form.partenaires_potentiels),
                            ("Principaux besoins identifiés", form.besoins)):
            lines += ["", f"### {title}", "", _text(text)]
        if application.warnings:
            lines += ["", "### Points d'attention", ""] + [f"- {_text(w)}" for w in application.warnings]
    return "\n".join(lines) + "\n", len(applications)


def _text(text: str) -> str:
    """Applicant text made inert in Markdown: no HTML, no headings or links of its own."""
    return text.replace("<", "&lt;").replace("#", "\\#").replace("[", "\\[")
