"""The back office's applications (issue 23): the list, one application in full (its sections, its
versions with who sent them and when, its files, admissibility and reasons, partners'
confirmations) and each file to download. Reads only: `models.read.staff_applications`."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from models.read.paging import search_text
from models.read.staff_applications import application_file, application_list, staff_attachment
from transitions.portal.deps import PageAsked, RowId, StaffDep
from transitions.portal.staff_state import staff_html

router = APIRouter(prefix="/equipe/candidatures")
SECTION = "/equipe/candidatures"


@router.get("", response_class=HTMLResponse, name="staff_applications")
def applications(seen: StaffDep, number: PageAsked, recherche: str | None = None) -> HTMLResponse:
    listing = application_list(seen.ctx, number, search_text(recherche))
    return staff_html(seen, "equipe_candidatures.html", "Candidatures", section=SECTION,
                      lignes=listing.lines, liste=listing)


@router.get("/{receipt}", response_class=HTMLResponse, name="staff_application")
def application(seen: StaffDep, receipt: str) -> HTMLResponse:
    screen = application_file(seen.ctx, receipt)
    return staff_html(seen, "equipe_candidature.html", f"Candidature {screen.row.receipt}", section=SECTION,
                      dossier=screen)


@router.get("/{receipt}/pieces/{file_id}", name="staff_application_file")
def attachment(seen: StaffDep, receipt: str, file_id: RowId) -> Response:
    found = staff_attachment(seen.ctx, receipt, file_id)
    return Response(found.content, media_type=found.media_type,
                    headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}",
                             "x-content-type-options": "nosniff"})
