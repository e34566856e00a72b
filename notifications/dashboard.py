"""The programme's status as Markdown, for the Prefect UI and the replay's `bilan.md`."""

from __future__ import annotations

from collections import Counter

from models.clock import format_paris
from models.notices import LABELS, NoticeKind
from models.status import Status
from models.tables import label


def dashboard_markdown(status: Status) -> str:
    """The programme's state as Markdown, for the Prefect UI (an artifact updated by each tick), the
    replay's `bilan.md` and `transitions status --markdown`: the same facts as the terminal summary
    (`transitions.report.print_status`): applications one per row with their reasons, refusals at the
    door, each pilot's progress, the next steps, and the notices sent by kind."""
    counts = Counter(row["statut"] for row in status.applications)
    admissible = counts["recevable"] + counts["retenue"] + counts["non retenue"]
    lines = [
        f"# {status.programme}",
        "",
        f"Au {format_paris(status.as_of)} : **{status.stage}**."
        + (f" Prochaine échéance : {format_paris(status.next_due)}." if status.next_due else ""),
        "",
        f"**Candidatures** : {len(status.applications)} reçue(s), "
        + ", ".join(f"{count} {_plural(state, count)}" for state, count in sorted(counts.items()))
        + f" ; {len(status.refused_at_door)} refusée(s) au guichet. Recevables : {admissible} ; "
        f"non recevables : {counts['non recevable']}.",
        "",
    ]
    if status.applications:
        lines += ["| Récépissé | Chef de file | Version | Statut | Motif / avertissements |", "|---|---|---|---|---|"]
        lines += [f"| {row['recepisse']} | {_cell(row['chef_de_file'])} | {row['version']} | {row['statut']} "
                  f"| {_cell(row['motif'] or row['avertissements']) or '—'} |" for row in status.applications]
        lines.append("")
    if status.refused_at_door:
        lines += [f"- Refus au guichet : {_cell(line)}" for line in status.refused_at_door]
        lines.append("")
    if status.progress:
        lines += ["| Pilote | Statut | Durée écoulée | Phase en cours | Phases | Jalons | Sessions (présence) "
                  "| Livrables (à l'heure / en retard / non remis, sur le total) |",
                  "|---|---|---|---|---|---|---|---|"]
        for p in status.progress:
            attendance = f" ({p.attendance_percent} %)" if p.attendance_percent is not None else ""
            lines.append(f"| {_cell(p.pilot)} | {label(p.status)} | {p.elapsed_percent} % "
                         f"| {_cell(p.current_phase or '—')} | {p.phases_done}/{p.phases_total} "
                         f"| {p.milestones_reached}/{p.milestones_total} "
                         f"| {p.sessions_held}/{p.sessions_total}{attendance} "
                         f"| {p.tasks_on_time} / {p.tasks_late} / {p.tasks_overdue} (sur {p.tasks_total}) |")
        lines.append("")
    if status.steps:
        lines += ["**Prochaines étapes**", ""]
        lines += [f"- {format_paris(s.when)} — {_cell(s.pilot)} : {_cell(s.what)}{' **(en retard)**' if s.late else ''}"
                  for s in status.steps]
        lines.append("")
    lines.append(f"**Avis** : {sum(status.notices.values())} envoyé(s) en {status.messages} message(s), "
                 f"{status.pending_notices} en attente, "
                 f"{status.dead_notices} abandonné(s).")
    sent = [(LABELS[kind], status.notices[kind.value]) for kind in NoticeKind if status.notices.get(kind.value)]
    if sent:
        lines += ["", "| Type d'avis | Envoyés |", "|---|---|"]
        lines += [f"| {name} | {count} |" for name, count in sent]
    return "\n".join(lines) + "\n"


def _plural(words: str, count: int) -> str:
    """« 3 retenues », « 2 non recevables »: the status agrees with its count."""
    if count < 2:
        return words
    return " ".join(w if w in ("non",) or w.endswith(("s", "x")) else w + "s" for w in words.split())


def _cell(text: str) -> str:
    """Applicant text made inert in a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")
