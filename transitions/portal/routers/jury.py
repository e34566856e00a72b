"""A juror's pages: the score sheet (save scores, declare a conflict of interest, submit) and the
applications' attachments."""

from __future__ import annotations

import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from models.forms import FIELD_LABELS
from models.jury import ScoreInput, declare_conflict, find_application, save_scores, submit_sheet
from models.read.juror import juror_attachment, juror_of, scorable
from models.read.juror_pages import juror_list, juror_sheet
from transitions.portal.deps import FormName, PageAsked, RowId, acting, juror_rule, named, visit
from transitions.portal.state import Act, Visit
from transitions.portal.templating import page, see_other

router = APIRouter()
Juror = Annotated[Visit, visit(juror_rule, "Ce lien personnel ne donne pas accès à la page du jury.")]
SCORE_FIELD = re.compile(r"note-([0-9]+)-[a-z0-9_-]+")
MAX_SCORE_FIELDS = 2000
JurorFile = Annotated[Visit, visit(juror_rule, "Ce lien personnel ne donne pas accès à ce document.")]


@router.get("/l/{token}/jury", response_class=HTMLResponse, name="jury")
def sheet(request: Request, seen: Juror, number: PageAsked, fait: str | None = None) -> HTMLResponse:
    screen = juror_list(seen.ctx, juror_of(seen.ctx, seen.bearer), seen.now, number)
    return page(request, seen, "jury.html", f"Jury : feuille de notes de {screen.head.juror}", fait, ecran=screen)


@router.get("/l/{token}/jury/candidature/{receipt}", response_class=HTMLResponse, name="jury_application")
def application_sheet(request: Request, seen: Juror, receipt: str, fait: str | None = None) -> HTMLResponse:
    screen = juror_sheet(seen.ctx, juror_of(seen.ctx, seen.bearer), receipt, seen.now)
    return page(request, seen, "jury_candidature.html", f"Jury : {screen.line.application.lead_name}", fait,
                ecran=screen, libelles=FIELD_LABELS)


def _posted_ids(form: FormData) -> set[int]:
    """The applications a posted score form names (`note-ID-CRITERION`): at most a page of them."""
    return {int(m.group(1)) for name in list(form.keys())[:MAX_SCORE_FIELDS]
            if (m := SCORE_FIELD.fullmatch(name)) and len(m.group(1)) <= 18}


@router.post("/l/{token}/jury/notes", name="jury_scores")
def scores(request: Request, act: Annotated[Act, acting(named("notes"), juror_rule, max_fields=2000)]) -> Response:
    juror = juror_of(act.ctx, act.bearer)
    applications = scorable(act.ctx, _posted_ids(act.form))
    typed = [ScoreInput.typed(act.ctx, application, criterion.key, act.field(name),
                              act.field(f"commentaire-{application.id}-{criterion.key}"))
             for application in applications for criterion in act.ctx.definition.jury.criteria
             if (name := f"note-{application.id}-{criterion.key}") in act.form]
    save_scores(act.ctx, juror, typed, at=act.now)
    if len(applications) == 1:  # back to the application's own page
        return see_other(request, "jury_application", "notes", token=act.token, receipt=applications[0].receipt_number)
    return see_other(request, "jury", "notes", token=act.token)


def _conflict_form(receipt: str) -> FormName:
    return lambda ctx: f"conflit:{find_application(ctx, receipt).id}"


@router.post("/l/{token}/jury/conflit/{receipt}", name="jury_conflict")
def conflict(request: Request, receipt: str, act: Annotated[Act, acting(_conflict_form, juror_rule)]) -> Response:
    application = find_application(act.ctx, receipt)
    declare_conflict(act.ctx, application, juror=juror_of(act.ctx, act.bearer),
                     reason=act.field("motif", multiline=True), at=act.now)
    return see_other(request, "jury_application", "conflit", token=act.token, receipt=application.receipt_number)


@router.post("/l/{token}/jury/soumettre", name="jury_submit")
def submit(request: Request, act: Annotated[Act, acting(named("soumettre"), juror_rule)]) -> Response:
    submit_sheet(act.ctx, juror_of(act.ctx, act.bearer), at=act.now)
    return see_other(request, "jury", "soumis", token=act.token)


@router.get("/l/{token}/jury/piece/{file_id}", name="jury_attachment")
def attachment(seen: JurorFile, file_id: RowId) -> Response:
    juror_of(seen.ctx, seen.bearer)  # a juror taken off the jury reads nothing more
    found = juror_attachment(seen.ctx, file_id)
    return Response(found.content, media_type=found.media_type,
                    headers={"content-disposition": f"attachment; filename*=UTF-8''{quote(found.filename)}"})
