"""The preview of a change of a running programme as one French HTML page (`transitions programme
diff --html`): inline CSS, no script, every value escaped (the report's Jinja environment)."""

from __future__ import annotations

from datetime import datetime

from models.read.programme_diff import CHANGES, WHAT, Preview, by_date, by_person
from reports.html_report import _environment


def render_programme_diff(preview: Preview, generated_at: datetime) -> str:
    """The page: the file's hash, the refusals and problems, then the differences by person and by date."""
    return _environment().get_template("changement-programme.html").render(
        p=preview, people=by_person(preview), days=by_date(preview), quoi=WHAT, changements=CHANGES,
        generated_at=generated_at)
