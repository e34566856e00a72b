"""The back office's programme pages (issue 26), read only: the current version, the versions'
history and the previews kept by `transitions programme diff` (`/equipe/programme`), one preview
by person and by date with the command that applies it (`/equipe/programme/apercus/{preview_id}`,
the body of `transitions programme diff --html`'s page), one version's definition against the
previous one (`/equipe/programme/versions/{version_number}`). Files are previewed and applied
with the command line, where they live: nothing is uploaded here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from models.read.staff_programme import preview_screen, programme_screen, version_screen
from models.staff import StaffAct
from reports.programme_diff_page import render_programme_diff_body
from transitions.portal.deps import PageAsked, RowId, require
from transitions.portal.staff_state import StaffVisit, staff_html

router = APIRouter(prefix="/equipe/programme")
SECTION = "/equipe/programme"
ProgrammeReader = Annotated[StaffVisit, require(StaffAct.SEE_PROGRAMME_CHANGES)]


@router.get("", response_class=HTMLResponse, name="staff_programme")
def programme_page(seen: ProgrammeReader, number: PageAsked) -> HTMLResponse:
    return staff_html(seen, "equipe_programme.html", "Programme : versions et aperçus", section=SECTION,
                      ecran=programme_screen(seen.ctx, number))


@router.get("/apercus/{preview_id}", response_class=HTMLResponse, name="staff_programme_preview")
def preview_page(seen: ProgrammeReader, preview_id: RowId) -> HTMLResponse:
    screen = preview_screen(seen.ctx, preview_id)
    return staff_html(seen, "equipe_programme_apercu.html", f"Aperçu n° {preview_id} d'un changement du programme",
                      section=SECTION, ecran=screen, corps=render_programme_diff_body(screen.preview))


@router.get("/versions/{version_number}", response_class=HTMLResponse, name="staff_programme_version")
def version_page(seen: ProgrammeReader, version_number: RowId) -> HTMLResponse:
    return staff_html(seen, "equipe_programme_version.html", f"Version {version_number} du programme",
                      section=SECTION, ecran=version_screen(seen.ctx, version_number))
