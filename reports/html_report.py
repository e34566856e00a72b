"""The progress report as one self-contained HTML file, in French: inline CSS and SVG, no script,
no external resource; it prints on A4. Every chart has a text alternative and a real table under it.

Pure: renders a `ReportData` (models.read.report_data) with the packaged template `templates/rapport.html`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from html import escape
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from models.clock import format_number, format_paris, paris
from models.read.report_data import ItemState, JuryView, PilotView, ReportData, TimelineItem, item_label
from models.tables import label

TEMPLATES = Path(__file__).resolve().parent / "templates"

_MONTHS = ["janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.", "déc."]

# Colours chosen for contrast on white (each at least 4.5:1) and told apart by shape and text too.
INK = "#1a1a1a"
MUTED = "#4d4d4d"
DONE = "#1d6b35"
LATE = "#a4161a"
LATE_DONE = "#8a4b00"
ACTIVE = "#1f5a96"
TODO = "#ffffff"
GRID = "#8c8c8c"


def short_date(value: datetime | None) -> str:
    """« 07/05/2015 », Paris time."""
    return paris(value).strftime("%d/%m/%Y") if value else "—"


def iso(value: datetime | None) -> str:
    return paris(value).isoformat(timespec="minutes") if value else ""


@lru_cache(maxsize=1)
def _environment() -> Environment:
    """Built once per process: compiling the report's templates cost more than rendering them."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(
        quand=lambda v: format_paris(v) if v else "—",
        jour=lambda v: format_paris(v, with_time=False) if v else "—",
        court=short_date, iso=iso,
        nombre=lambda v: "—" if v is None else format_number(v),
        libelle=label, etat=item_label,
    )
    env.globals["Etat"] = ItemState  # states compared as the enum's members, not as strings
    return env


def render_report(data: ReportData, generated_at: datetime) -> str:
    """The whole report as one HTML document."""
    env = _environment()
    return env.get_template("rapport.html").render(
        d=data, generated_at=generated_at, funnel_svg=funnel_svg(data), ranking_svg=ranking_svg(data.jury),
        timelines={p.id: timeline_svg(p) for p in data.pilots},
        late=[(p, item) for p in data.pilots for item in p.late],
        notices_by_kind=_notices_by_kind(data),
    )


def _notices_by_kind(data: ReportData) -> list[tuple[str, str, int, int, int]]:
    """(code, label, sent, waiting, given up) per kind of notice."""
    kinds: dict[str, list[int]] = {}
    labels: dict[str, str] = {}
    for n in data.notices:
        row = kinds.setdefault(n.kind, [0, 0, 0])
        labels[n.kind] = n.kind_label
        row[("envoye", "en_attente", "abandonne").index(n.status)] += 1
    return [(k, labels[k], *v) for k, v in sorted(kinds.items(), key=lambda kv: labels[kv[0]])]  # type: ignore[misc]


def _svg(width: int, height: int, title: str, desc: str, ident: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" font-family="inherit" font-size="13">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
        + "".join(body) + "</svg>")


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = INK, size: int = 13,
          weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}" font-size="{size}" '
            f'font-weight="{weight}">{escape(text)}</text>')


def funnel_svg(data: ReportData) -> Markup:
    f = data.funnel
    bars = [("Reçues", f.received, ACTIVE), ("Recevables", f.admissible, DONE),
            ("Non recevables", f.inadmissible, LATE), ("Retenues", f.selected, DONE),
            ("Refusées au guichet", len(f.refused_at_door), LATE_DONE)]
    if f.undecided:
        bars.insert(1, ("En attente d'examen", f.undecided, MUTED))
    top = max([b[1] for b in bars] + [1])
    width, left, row = 640, 170, 30
    body = []
    for index, (name, value, colour) in enumerate(bars):
        y = 10 + index * row
        length = (width - left - 60) * value / top
        body.append(_text(left - 8, y + 15, name, anchor="end"))
        body.append(f'<rect x="{left}" y="{y}" width="{length:.1f}" height="20" fill="{colour}"/>')
        body.append(_text(left + length + 6, y + 15, str(value), weight="bold"))
    desc = ", ".join(f"{name.lower()} : {value}" for name, value, _ in bars)
    return _svg(width, 20 + len(bars) * row, "Entonnoir de l'appel à candidatures", f"Candidatures {desc}.",
                "entonnoir", body)


def ranking_svg(jury: JuryView) -> Markup:
    lines = [line for line in jury.lines if line.score is not None]
    width, left, row = 640, 230, 30
    scale = (width - left - 60) / jury.scale_max
    height = 30 + max(1, len(lines)) * row
    body = []
    for index, line in enumerate(lines):
        assert line.score is not None
        y = 10 + index * row
        name = line.application.name if len(line.application.name) <= 30 else line.application.name[:29] + "…"
        colour = DONE if line.score >= jury.threshold else LATE
        body.append(_text(left - 8, y + 15, f"{line.rank}. {name}", anchor="end"))
        body.append(f'<rect x="{left}" y="{y}" width="{line.score * scale:.1f}" height="20" fill="{colour}"/>')
        body.append(_text(left + line.score * scale + 6, y + 15, format_number(line.score), weight="bold"))
    x = left + jury.threshold * scale
    body.append(f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{height - 18}" stroke="{INK}" stroke-width="2" '
                f'stroke-dasharray="6 3"/>')
    body.append(_text(x, height - 4, f"seuil {format_number(jury.threshold)}", anchor="middle", size=12))
    desc = "; ".join(f"{line.rank}. {line.application.name} : {format_number(line.score or 0)}" for line in lines)
    return _svg(width, height, f"Notes pondérées sur {jury.scale_max}, seuil {format_number(jury.threshold)}",
                (desc or "aucune note") + ".", "classement", body)


def _months(start: datetime, end: datetime) -> list[datetime]:
    local = paris(start).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    marks = []
    while local <= paris(end):
        if local >= paris(start):
            marks.append(local)
        local = (local + timedelta(days=32)).replace(day=1)
    return marks


def timeline_svg(pilot: PilotView) -> Markup:
    """Phases, milestones, sessions and deliverables of a pilot on its 12 months, the instant marked."""
    items = pilot.phases + pilot.milestones + pilot.sessions + pilot.deliverables
    if not items or pilot.kickoff_at is None:
        return Markup("")
    start = min([pilot.kickoff_at] + [i.start for i in items])
    end = max([pilot.ends_at or start] + [i.end or i.start for i in items] + [i.done_at or i.start for i in items])
    width, left, right = 960, 100, 20
    span = max((end - start).total_seconds(), 1)

    def x(value: datetime) -> float:
        return left + (width - left - right) * (value - start).total_seconds() / span

    lanes = [("Phases", pilot.phases), ("Jalons", pilot.milestones), ("Sessions", pilot.sessions),
             ("Livrables", pilot.deliverables)]
    lane_h, top = 46, 8
    axis_y = top + lane_h * len(lanes)
    height = axis_y + 40
    body = [f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>']
    for month in _months(start, end):
        mx = x(month)
        body.append(f'<line x1="{mx:.1f}" y1="{top}" x2="{mx:.1f}" y2="{axis_y}" stroke="#d0d0d0"/>')
        body.append(_text(mx + 2, axis_y + 16, f"{_MONTHS[month.month - 1]}", size=11, fill=MUTED))
        if month.month == 1 or month == _months(start, end)[0]:
            body.append(_text(mx + 2, axis_y + 30, str(month.year), size=11, fill=MUTED))
    for index, (name, _) in enumerate(lanes):
        y = top + index * lane_h
        body.append(_text(4, y + 28, name, weight="bold"))
        body.append(f'<line x1="{left}" y1="{y + lane_h}" x2="{width - right}" y2="{y + lane_h}" stroke="{GRID}" '
                    f'stroke-width="0.5"/>')
    y0 = top
    for position, phase in enumerate(pilot.phases, start=1):
        fill = {ItemState.DONE: DONE, ItemState.IN_PROGRESS: ACTIVE}.get(phase.state, TODO)
        x1, x2 = x(phase.start), x(phase.end or phase.start)
        body.append(f'<rect x="{x1:.1f}" y="{y0 + 10}" width="{max(x2 - x1 - 2, 2):.1f}" height="26" fill="{fill}" '
                    f'stroke="{INK}" stroke-width="1"><title>{escape(_tip(phase))}</title></rect>')
        body.append(_text((x1 + x2) / 2, y0 + 28, str(position), anchor="middle", weight="bold",
                          fill="#ffffff" if fill != TODO else INK))
    y1 = top + lane_h
    for item in pilot.milestones:
        cx, cy = x(item.start), y1 + 23
        fill = {ItemState.REACHED: DONE, ItemState.REACHED_LATE: LATE_DONE, ItemState.LATE: LATE,
                ItemState.MISSED: LATE}.get(item.state, TODO)
        body.append(f'<path d="M{cx:.1f} {cy - 10} L{cx + 10:.1f} {cy} L{cx:.1f} {cy + 10} L{cx - 10:.1f} {cy} Z" '
                    f'fill="{fill}" stroke="{INK}"><title>{escape(_tip(item))}</title></path>')
        if item.late:
            body.append(_text(cx, cy - 13, "!", anchor="middle", fill=LATE, weight="bold"))
    y2 = top + 2 * lane_h
    for item in pilot.sessions:
        cx, cy = x(item.start), y2 + 27
        held = item.state == ItemState.HELD
        body.append(f'<circle cx="{cx:.1f}" cy="{cy}" r="8" fill="{ACTIVE if held else TODO}" stroke="{INK}">'
                    f'<title>{escape(_tip(item))}</title></circle>')
        if held and item.present + item.absent:
            body.append(_text(cx, cy - 12, f"{item.present}/{item.present + item.absent}", anchor="middle", size=11))
    y3 = top + 3 * lane_h
    for item in pilot.deliverables:
        dx, cy = x(item.start), y3 + 23
        fill = {ItemState.DELIVERED: DONE, ItemState.DELIVERED_LATE: LATE_DONE,
                ItemState.LATE: LATE}.get(item.state, TODO)
        if item.done_at and item.done_at > item.start:
            body.append(f'<line x1="{dx:.1f}" y1="{cy}" x2="{x(item.done_at):.1f}" y2="{cy}" stroke="{LATE_DONE}" '
                        f'stroke-width="3"/>')
        body.append(f'<rect x="{dx - 8:.1f}" y="{cy - 8}" width="16" height="16" fill="{fill}" stroke="{INK}">'
                    f'<title>{escape(_tip(item))}</title></rect>')
        if item.late:
            body.append(_text(dx, cy - 12, "!", anchor="middle", fill=LATE, weight="bold"))
    if start <= pilot.as_of <= end:
        nx = x(pilot.as_of)
        body.append(f'<line x1="{nx:.1f}" y1="2" x2="{nx:.1f}" y2="{axis_y}" stroke="{LATE}" stroke-width="2"/>')
        anchor = "end" if nx > width - 120 else "start"
        body.append(_text(nx + (-4 if anchor == "end" else 4), axis_y - 4, f"au {short_date(pilot.as_of)}",
                          anchor=anchor, size=11, fill=LATE, weight="bold"))
    p = pilot.progress
    desc = (f"Calendrier de {pilot.name} du {short_date(start)} au {short_date(end)}, situation au "
            f"{short_date(pilot.as_of)} : phases terminées {p.phases_done} sur {p.phases_total}, "
            f"jalons atteints {p.milestones_reached} sur {p.milestones_total}, sessions tenues "
            f"{p.sessions_held} sur {p.sessions_total}, livrables remis à l'heure {p.deliverables_on_time}, "
            f"remis en retard {p.deliverables_late}, en retard non remis {p.deliverables_overdue} "
            f"sur {p.deliverables_total}. "
            "Le détail figure dans les tableaux qui suivent.")
    return _svg(width, height, f"Frise chronologique de {pilot.name}", desc, f"frise-{pilot.id}", body)


def _tip(item: TimelineItem) -> str:
    return f"{item.title} — {short_date(item.start)} — {item_label(item.state)}"
