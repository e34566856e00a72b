"""The programme's status as Markdown, for the Prefect UI and the replay's `bilan.md`."""

from __future__ import annotations

from collections import Counter

from models.clock import format_paris
from models.status import Status
from models.tables import label


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
        + ", ".join(f"{count} {_plural(state, count)}" for state, count in sorted(counts.items()))
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


def _plural(words: str, count: int) -> str:
    """« 3 retenues », « 2 non recevables »: the status agrees with its count."""
    if count < 2:
        return words
    return " ".join(w if w in ("non",) or w.endswith(("s", "x")) else w + "s" for w in words.split())


def _cell(text: str) -> str:
    """Applicant text made inert in a Markdown table cell."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")
