"""The preview of a change of a running programme as one French HTML page (`transitions programme
diff --html`): inline CSS, no script, every value escaped (the report's Jinja environment); and its
body alone, for the back office's page of a kept preview (`/equipe/programme/apercus/N`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup

from models.read.programme_diff import CHANGES, WHAT, Preview, by_date, by_person, kind_label
from reports.html_report import _environment


def _values(preview: Preview) -> dict[str, Any]:
    return {"p": preview, "people": by_person(preview), "days": by_date(preview), "quoi": WHAT,
            "changements": CHANGES, "type_de": kind_label}


def render_programme_diff(preview: Preview, generated_at: datetime) -> str:
    """The page: the file's hash, the refusals and problems, then the differences by person and by date."""
    return _environment().get_template("changement-programme.html").render(generated_at=generated_at,
                                                                           **_values(preview))


def render_programme_diff_body(preview: Preview) -> Markup:
    """The page's body without its title and heading (headings from h2): the refusals and problems,
    the differences by person and by date, every value escaped, to be placed in another page."""
    return Markup(_environment().get_template("_changement-programme-corps.html").render(**_values(preview)))  # noqa: S704
