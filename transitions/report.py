"""French reports for Cerdd project managers: programme status, applications, demo summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlmodel import Session, col, select

from models.accompaniment import Progress, Step, next_steps, progress
from models.clock import format_paris
from models.context import all_ctx, load_ctx
from models.forms import Person
from models.pilots import pilots
from models.schedule import next_due
from models.tables import Application, AuditEntry, Notice, NoticeStatus
from notifications.kinds import LABELS, NoticeKind

STAGE_LABELS = {
    "pret": "prêt, appel pas encore lancé",
    "appel_ouvert": "appel à candidature ouvert",
    "appel_clos": "appel clos, en attente du jury",
    "pilotes_selectionnes": "territoires pilotes sélectionnés, accompagnement",
    "termine": "programme terminé",
}


STATUS_LABELS = {
    "recue": "reçue",
    "recevable": "recevable",
    "non_recevable": "non recevable",
    "retenue": "retenue",
    "non_retenue": "non retenue",
    "charte_en_attente": "charte en attente",
    "en_cours": "en cours",
    "termine": "terminé",
    "en_attente": "en attente",
    "envoye": "envoyé",
    "abandonne": "abandonné",
}


def label(status: str) -> str:
    """The word users read for a stored status."""
    return STATUS_LABELS.get(status, status)


@dataclass
class Status:
    as_of: datetime
    programme: str
    stage: str
    applications: list[dict[str, str]]
    refused_at_door: list[str]
    progress: list[Progress]
    notices: Counter[str]
    messages: int
    pending_notices: int
    dead_notices: int
    next_due: datetime | None
    steps: list[Step]


def application_rows(session: Session, slug: str | None = None) -> list[dict[str, str]]:
    ctx = load_ctx(session, slug)
    rows = session.exec(select(Application).where(Application.programme_id == ctx.programme_id)
                        .order_by(col(Application.id))).all()
    return [{
        "recepisse": a.receipt_number,
        "chef_de_file": a.lead_name,
        "siren": a.lead_siren,
        "nature": a.lead_kind,
        "version": str(a.version),
        "deposee_le": format_paris(a.last_submitted_at),
        "statut": label(a.status),
        "motif": a.decision_reason or "",
        "avertissements": " | ".join(a.warnings),
    } for a in rows]


def build_status(session: Session, as_of: datetime, slug: str | None = None) -> Status:
    ctx = load_ctx(session, slug)
    refused = session.exec(select(AuditEntry).where(
        AuditEntry.programme_id == ctx.programme_id, AuditEntry.action == "candidature.refusee")
        .order_by(col(AuditEntry.at))).all()
    notices = session.exec(select(Notice).where(Notice.programme_id == ctx.programme_id)).all()
    due = next_due(session, as_of) if len(all_ctx(session)) == 1 else None
    return Status(
        as_of=as_of,
        programme=f"{ctx.programme.slug} — {ctx.programme.title}",
        stage=STAGE_LABELS.get(ctx.programme.stage, ctx.programme.stage),
        applications=application_rows(session, ctx.programme.slug),
        refused_at_door=[r.summary for r in refused],
        progress=[progress(ctx, p, as_of) for p in pilots(ctx)],
        steps=sorted((step for p in pilots(ctx) for step in next_steps(ctx, p, as_of)), key=lambda s: s.when),
        notices=Counter(n.kind for n in notices if n.status == NoticeStatus.SENT),
        messages=sum(1 for n in notices if n.status == NoticeStatus.SENT and not n.digest_id)
        + len({n.digest_id for n in notices if n.digest_id}),
        pending_notices=sum(1 for n in notices if n.status == NoticeStatus.PENDING),
        dead_notices=sum(1 for n in notices if n.status == NoticeStatus.DEAD),
        next_due=due,
    )


def print_rows(console: Console, rows: list[dict[str, str]]) -> None:
    if not rows:
        console.print("Aucune candidature.")
        return
    table = Table("Récépissé", "Chef de file", "Version", "Statut", "Motif / avertissements")
    for row in rows:
        note = row["motif"] or row["avertissements"]
        table.add_row(row["recepisse"], escape(row["chef_de_file"]), row["version"], row["statut"], escape(note))
    console.print(table)


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
    from models.applications import form_of
    from models.jury import find_application

    application = find_application(load_ctx(session, slug), reference)
    form = form_of(session, application)
    lead = form.collectivite_chef_de_file

    def people(title: str, persons: list[Person]) -> None:
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
        console.print(f"  - {escape(partner.nom)} ({partner.type.value})", highlight=False)
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
                          f"{p.tasks_on_time} / {p.tasks_late} / {p.tasks_overdue} (sur {p.tasks_total})")
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


def dashboard_markdown(status: Status) -> str:
    """The programme's state as Markdown, for the Prefect UI (an artifact updated by each tick)."""
    counts = Counter(row["statut"] for row in status.applications)
    lines = [
        f"# {status.programme}",
        "",
        f"Au {format_paris(status.as_of)} : **{status.stage}**."
        + (f" Prochaine échéance : {format_paris(status.next_due)}." if status.next_due else ""),
        "",
        f"**Candidatures** : {len(status.applications)} reçue(s), "
        + ", ".join(f"{count} {state}" for state, count in sorted(counts.items()))
        + f" ; {len(status.refused_at_door)} refusée(s) au guichet.",
        "",
    ]
    if status.progress:
        lines += ["| Pilote | Statut | Durée écoulée | Phase en cours | Jalons | Sessions "
                  "| Livrables (à l'heure / en retard / non remis) |",
                  "|---|---|---|---|---|---|---|"]
        for p in status.progress:
            lines.append(f"| {_cell(p.pilot)} | {label(p.status)} | {p.elapsed_percent} % "
                         f"| {_cell(p.current_phase or '—')} | {p.milestones_reached}/{p.milestones_total} "
                         f"| {p.sessions_held}/{p.sessions_total} "
                         f"| {p.tasks_on_time} / {p.tasks_late} / {p.tasks_overdue} |")
        lines.append("")
    if status.steps:
        lines += ["**Prochaines étapes**", ""]
        lines += [f"- {format_paris(s.when)} — {_cell(s.pilot)} : {_cell(s.what)}{' **(en retard)**' if s.late else ''}"
                  for s in status.steps]
        lines.append("")
    lines.append(f"**Avis** : {sum(status.notices.values())} envoyé(s) en {status.messages} message(s), "
                 f"{status.pending_notices} en attente, "
                 f"{status.dead_notices} abandonné(s).")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Applicant text made inert in a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def jury_dossier(session: Session, slug: str | None = None) -> tuple[str, int]:
    """The jury's reading file in Markdown (criteria, then every admissible application in full),
    and how many applications it holds."""
    from models.applications import form_of
    from models.clock import format_number
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
        lines += [f"- {_text(p.nom)} ({p.type.value})" for p in form.partenaires] or ["- aucun partenaire"]
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
