"""The programme's status as Markdown, for the Prefect UI and the replay's `bilan.md`."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from models.accompaniment import Progress
from models.clock import format_paris
from models.notices import LABELS, NoticeKind
from models.read.status import Status
from models.tables import NoticeStatus, label

SHOWN_PILOTS = 25
"""Beyond this many pilots (a national programme), the dashboard shows the late ones and those
with the nearest step first, and totals for the others, so its size stays bounded."""
SHOWN_STEPS = 20
SHOWN_APPLICATIONS = 60


@dataclass(frozen=True)
class TeamPages:
    """The back office's pages (issue 23) an item of the dashboard links to, for a member of the
    Cerdd's team reading it in Prefect's UI: `base` is the portal's public address
    (`PORTAL_BASE_URL`), `sirens` each pilot's SIREN by its name (its page is `/equipe/pilotes/SIREN`)."""

    base: str
    sirens: Mapping[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        """The absolute address of the back office's `path` (« /equipe/avis »)."""
        return self.base.rstrip("/") + path

    def pilot(self, name: str) -> str | None:
        siren = self.sirens.get(name)
        return self.url(f"/equipe/pilotes/{quote(siren, safe='')}") if siren else None

    def application(self, receipt: str) -> str:
        return self.url(f"/equipe/candidatures/{quote(receipt, safe='')}")


def _link(text: str, url: str | None) -> str:
    """`text` (already made inert by `_cell`) as a Markdown link to `url`; as it is without one."""
    if not url:
        return text
    return "[" + text.replace("[", "\\[").replace("]", "\\]") + f"]({url.replace(')', '%29').replace(' ', '%20')})"


def shown_pilots(status: Status) -> tuple[list[Progress], list[Progress]]:
    """The pilots the dashboard lists (all of them up to SHOWN_PILOTS; beyond, those with overdue
    deliverables first, then by their next step) and the others, counted in totals."""
    if len(status.progress) <= SHOWN_PILOTS:
        return list(status.progress), []
    first_step: dict[str, datetime] = {}
    for step in status.steps:
        first_step.setdefault(step.pilot, step.when)
    far = datetime.max.replace(tzinfo=status.as_of.tzinfo)
    ordered = sorted(status.progress, key=lambda p: (-p.deliverables_overdue, first_step.get(p.pilot, far)))
    return ordered[:SHOWN_PILOTS], ordered[SHOWN_PILOTS:]


def dashboard_markdown(status: Status, pages: TeamPages | None = None) -> str:
    """The programme's state as Markdown, for the Prefect UI (an artifact updated by each tick), the
    replay's `bilan.md` and `transitions status --markdown`: the same facts as the terminal summary
    (`transitions.report.print_status`): applications one per row with their reasons, refusals at the
    door, each pilot's progress, the next steps, and the notices sent by kind. With `pages` (the
    Prefect artifact), each application's receipt, each pilot's name and the notices waiting or
    given up link to their page of the back office."""
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
        lines += [f"| {_link(_cell(row['recepisse']), pages.application(row['recepisse']) if pages else None)} "
                  f"| {_cell(row['chef_de_file'])} | {row['version']} | {row['statut']} "
                  f"| {_cell(row['motif'] or row['avertissements']) or '—'} |"
                  for row in status.applications[:SHOWN_APPLICATIONS]]
        if len(status.applications) > SHOWN_APPLICATIONS:  # bounded: `transitions applications` lists them all
            lines.append(f"| … | {len(status.applications) - SHOWN_APPLICATIONS} autres candidatures | | | |")
        lines.append("")
    if status.refused_at_door:
        lines += [f"- Refus au guichet : {_cell(line)}" for line in status.refused_at_door]
        lines.append("")
    shown, others = shown_pilots(status)
    if shown:
        lines += ["| Pilote | Statut | Durée écoulée | Phase en cours | Phases | Jalons | Sessions (présence) "
                  "| Livrables (à l'heure / en retard / non remis, sur le total) |",
                  "|---|---|---|---|---|---|---|---|"]
        for p in shown:
            attendance = f" ({p.attendance_percent} %)" if p.attendance_percent is not None else ""
            name = _link(_cell(p.pilot), pages.pilot(p.pilot) if pages else None)
            lines.append(f"| {name} | {label(p.status)} | {p.elapsed_percent} % "
                         f"| {_cell(p.current_phase or '—')} | {p.phases_done}/{p.phases_total} "
                         f"| {p.milestones_reached}/{p.milestones_total} "
                         f"| {p.sessions_held}/{p.sessions_total}{attendance} "
                         f"| {p.deliverables_on_time} / {p.deliverables_late} / {p.deliverables_overdue} "
                         f"(sur {p.deliverables_total}) |")
        if others:
            lines.append(f"| {len(others)} autres pilotes | — | — | — "
                         f"| {sum(p.phases_done for p in others)}/{sum(p.phases_total for p in others)} "
                         f"| {sum(p.milestones_reached for p in others)}/{sum(p.milestones_total for p in others)} "
                         f"| {sum(p.sessions_held for p in others)}/{sum(p.sessions_total for p in others)} "
                         f"| {sum(p.deliverables_on_time for p in others)} / "
                         f"{sum(p.deliverables_late for p in others)} / "
                         f"{sum(p.deliverables_overdue for p in others)} "
                         f"(sur {sum(p.deliverables_total for p in others)}) |")
        lines.append("")
    steps = status.steps
    if others:  # bounded: what is late first, then the nearest
        steps = sorted(steps, key=lambda s: (not s.late, s.when))
    if steps:
        lines += ["**Prochaines étapes**", ""]
        listed = steps[:SHOWN_STEPS] if others else steps
        lines += [f"- {format_paris(s.when)} — {_link(_cell(s.pilot), pages.pilot(s.pilot) if pages else None)} : "
                  f"{_cell(s.what)}{' **(en retard)**' if s.late else ''}" for s in listed]
        if len(listed) < len(steps):
            lines.append(f"- … et {len(steps) - len(listed)} autres étapes.")
        lines.append("")
    waiting, dead = f"{status.pending_notices} en attente", f"{status.dead_notices} abandonné(s)"
    if pages:
        waiting = _link(waiting, pages.url(f"/equipe/avis?etat={NoticeStatus.PENDING.value}"))
        dead = _link(dead, pages.url(f"/equipe/avis?etat={NoticeStatus.DEAD.value}"))
    lines.append(f"**Avis** : {sum(status.notices.values())} envoyé(s) en {status.messages} message(s), "
                 f"{waiting}, {dead}.")
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
