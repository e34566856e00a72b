"""A person's export (RGPD art. 15) as one readable French HTML page: inline CSS, no script, every
value escaped (the report's Jinja environment, autoescape on)."""

from __future__ import annotations

from datetime import datetime

from models.personal_data import SHOWN
from models.read.person import PersonExport
from reports.html_report import _environment


def render_person(export: PersonExport, generated_at: datetime) -> str:
    """The page listing what is held about the person, table by table."""
    tables: dict[str, list[object]] = {}
    for row in export.rows:
        tables.setdefault(row.title, []).append(row)
    return _environment().get_template("personne.html").render(e=export, tables=tables, generated_at=generated_at,
                                                                      audit_title=SHOWN["auditentry"].title)
