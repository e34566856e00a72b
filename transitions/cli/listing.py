"""Lists that read at 80 columns: keys first, long text elided on one line, columns dropped when the
terminal is narrow (each list says how to see everything), and `--json` for scripts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import typer
from rich.console import Console
from rich.markup import escape as markup_escape
from rich.table import Table

from models.clock import paris
from models.text import visible


def escape(text: str) -> str:
    """Text from a person or a file, safe to print: no rich markup, no terminal control sequence."""
    return markup_escape(visible(text))

JsonOption = Annotated[bool, typer.Option(
    "--json", help="Écrit la liste complète en JSON (dates ISO 8601, heure de Paris), pour les scripts.")]


@dataclass(frozen=True)
class Column:
    """A list's column: `key` in each row; `drop` orders what goes first when narrow (0: never)."""

    header: str
    key: str
    min_width: int = 4
    max_width: int | None = None
    drop: int = 0
    justify: Literal["left", "right"] = "left"
    ratio: int | None = None


def short_instant(value: datetime | None) -> str:
    """« 07/05/2015 12:00 », Paris time: what a list cell can hold."""
    return paris(value).strftime("%d/%m/%Y %H:%M") if value else ""


def short_day(value: datetime | None) -> str:
    return paris(value).strftime("%d/%m/%Y") if value else ""


def fitting(columns: Sequence[Column], width: int) -> list[Column]:
    """The columns whose minimum widths fit in `width` (each costs 3 more: padding and rule)."""
    kept = list(columns)
    while sum(c.min_width + 3 for c in kept) + 1 > width:
        droppable = [c for c in kept if c.drop]
        if not droppable:
            break
        kept.remove(max(droppable, key=lambda c: c.drop))
    return kept


def print_list(console: Console, columns: Sequence[Column], rows: list[dict[str, str]], *, empty: str,
               whole: str = "") -> None:
    """A table that fits the console: cells on one line, elided with « … »; `whole` says where to read
    the text in full when something was elided or left out."""
    if not rows:
        console.print(empty)
        return
    kept = fitting(columns, console.width)
    table = Table(expand=False)
    for c, width in zip(kept, widths(kept, rows, console.width), strict=True):
        table.add_column(c.header, no_wrap=True, overflow="ellipsis", width=width, justify=c.justify)
    for row in rows:
        table.add_row(*(escape(row.get(c.key, "")) for c in kept))
    console.print(table)
    hidden = [c.header for c in columns if c not in kept]
    if whole and (hidden or _elided(kept, rows, console.width)):
        note = f"Colonnes masquées faute de place : {', '.join(hidden)}. " if hidden else ""
        console.print(f"{note}{whole}", highlight=False)


def widths(columns: list[Column], rows: list[dict[str, str]], width: int) -> list[int]:
    """Each column's width: its natural width (capped by max_width) when all fit, otherwise the
    elastic columns (with a ratio) shrink first, then the others, never below their minimum."""
    natural = [min(max([len(c.header)] + [len(r.get(c.key, "")) for r in rows]), c.max_width or 10**6)
               for c in columns]
    result = [max(n, c.min_width) for n, c in zip(natural, columns, strict=True)]
    excess = sum(result) + 3 * len(columns) + 1 - width
    for elastic in (True, False):
        while excess > 0:
            shrinkable = [i for i, c in enumerate(columns) if bool(c.ratio) == elastic and result[i] > c.min_width]
            if not shrinkable:
                break
            widest = max(shrinkable, key=lambda i: result[i] / (columns[i].ratio or 1))
            result[widest] -= 1
            excess -= 1
    return result


def _elided(columns: list[Column], rows: list[dict[str, str]], width: int) -> bool:
    """Whether the widest cells cannot all be shown whole at this width."""
    natural = sum(max([len(c.header)] + [len(r.get(c.key, "")) for r in rows]) + 3 for c in columns) + 1
    return natural > width or any(c.max_width and any(len(r.get(c.key, "")) > c.max_width for r in rows)
                                  for c in columns)


def json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return paris(value).isoformat(timespec="seconds")
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def print_json(rows: Any) -> None:
    """The rows as JSON on stdout, untouched by the terminal's width."""
    import sys

    sys.stdout.write(json.dumps(json_value(rows), ensure_ascii=False, indent=2) + "\n")
