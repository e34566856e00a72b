"""The back office's report (issue 23): the HTML progress report true at the programme's present
and every export to download as CSV or Excel, made by the same functions as `transitions report`
and `transitions export` (`transitions.html_export.report_html`, `transitions.exports.export_bytes`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from transitions.exports import KINDS, MEDIA_TYPES, export_bytes
from transitions.html_export import report_html
from transitions.portal.deps import StaffDep
from transitions.portal.staff_state import staff_html

router = APIRouter(prefix="/equipe/rapport")
SECTION = "/equipe/rapport"
EXPORT_LABELS = {"applications": "Candidatures", "scores": "Notes du jury", "ranking": "Classement",
                 "pilots": "Pilotes", "sessions": "Sessions", "attendance": "Présences", "deliverables": "Livrables",
                 "notices": "Avis", "audit": "Journal"}
"""Each export (`transitions export KIND`) in French."""
Word = Annotated[str, PathParam(max_length=20, pattern=r"^[a-z]+$")]


@router.get("", response_class=HTMLResponse, name="staff_report")
def report_page(seen: StaffDep) -> HTMLResponse:
    return staff_html(seen, "equipe_rapport.html", "Rapport", section=SECTION, maintenant=seen.now,
                      exports=[(kind, EXPORT_LABELS.get(kind, kind)) for kind in KINDS], formats=list(MEDIA_TYPES))


@router.get("/rapport.html", name="staff_report_html")
def report_file(seen: StaffDep) -> Response:
    html, _ = report_html(seen.ctx, seen.now)
    return Response(html, media_type="text/html; charset=utf-8",
                    headers={"content-disposition": 'attachment; filename="rapport.html"',
                             "x-content-type-options": "nosniff"})


@router.get("/exports/{kind}.{file_format}", name="staff_report_export")
def export_file(seen: StaffDep, kind: Word, file_format: Word) -> Response:
    content = export_bytes(seen.ctx, kind, seen.now, file_format)
    return Response(content, media_type=MEDIA_TYPES[file_format],
                    headers={"content-disposition": f'attachment; filename="{kind}.{file_format}"',
                             "x-content-type-options": "nosniff"})
