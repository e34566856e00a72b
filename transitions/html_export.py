"""Writing the HTML progress report (`transitions report`, and the replay's `rapport.html`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from models.context import Ctx
from models.report_data import report_data
from notifications.html_report import render_report
from transitions.userfiles import write_text


def write_report(ctx: Ctx, as_of: datetime, path: Path, pilot: str | None = None) -> int:
    """Render the report true at `as_of` into `path`; returns the number of pilots it shows."""
    data = report_data(ctx, as_of, pilot)
    write_text(path, render_report(data, datetime.now(UTC)))
    return len(data.pilots)
