"""Writing the HTML progress report (`transitions report`, and the replay's `rapport.html`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from models.context import ProgrammeContext
from models.errors import InvalidInput
from models.read.report_data import report_data
from models.wording import os_reason
from reports.html_report import render_report


def report_html(ctx: ProgrammeContext, as_of: datetime, pilot: str | None = None) -> tuple[str, int]:
    """The report true at `as_of` as one self-contained HTML page, and the number of pilots it shows
    (`transitions report`, the back office's « Rapport »)."""
    data = report_data(ctx, as_of, pilot)
    return render_report(data, datetime.now(UTC)), len(data.pilots)


def write_report(ctx: ProgrammeContext, as_of: datetime, path: Path, pilot: str | None = None) -> int:
    """Render the report true at `as_of` into `path`; returns the number of pilots it shows."""
    html, shown = report_html(ctx, as_of, pilot)
    try:
        path.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"Impossible d'écrire {path} : {os_reason(exc)}.") from None
    return shown
