"""Writing the HTML progress report (`transitions report`, and the replay's `rapport.html`)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from models.context import ProgrammeContext
from models.errors import InvalidInput
from models.read.report_data import report_data
from models.wording import os_reason
from reports.html_report import render_report


def write_report(ctx: ProgrammeContext, as_of: datetime, path: Path, pilot: str | None = None) -> int:
    """Render the report true at `as_of` into `path`; returns the number of pilots it shows."""
    data = report_data(ctx, as_of, pilot)
    try:
        path.write_text(render_report(data, datetime.now(UTC)), encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"Impossible d'écrire {path} : {os_reason(exc)}.") from None
    return len(data.pilots)
