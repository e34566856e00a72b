"""A juror's pages: the score sheet (save scores, declare a conflict of interest, submit) and the
applications' attachments."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from models.forms import FIELD_LABELS
from models.jury import ScoreInput, declare_conflict, find_application, save_scores, submit_sheet
from models.read.juror import juror_attachment, juror_of, juror_screen, scorable
from transitions.portal.deps import FormName, RowId, acting, juror_rule, named, visit
from transitions.portal.state import Act, Visit
from transitions.portal.templating import page, see_other

router = APIRouter()
Juror = Annotated[Visit, visit(juror_rule, "Ce lien personnel ne donne pas accès à la page du jury.")]
JurorFile = Annotated[Visit, visit(juror_rule, "Ce lien personnel ne donne pas accès à ce document.")]


@router.get("/l/{token}/jury", response_class=HTMLResponse, name="jury")
def sheet(request: Request, seen: Juror, fait: str | None = None) -> HTMLResponse:
    screen = juror_screen(seen.ctx, juror_of(seen.ctx, seen.bearer), seen.now)
    return page(request, seen, "jury.html", f"Jury : feuille de notes de {screen.juror}", fait, ecran=screen,
                libelles=FIELD_LABELS)


@router.post("/l/{token}/jury/notes", name="jury_scores")
def scores(request: Request, act: Annotated[Act, acting(named("notes"), juror_rule, max_fields=2000)]) -> Response:
    juror = juror_of(act.ctx, act.bearer)
    typed = [ScoreInput.typed(act.ctx, application, criterion.key, act.field(name),
                              act.field(f"commentaire-{application.id}-{criterion.key}"))
             for application in scorable(act.ctx) for criterion in act.ctx.definition.jury.criteria
             if (name := f"note-{application.id}-{criterion.key}") in act.form]
    save_scores(act.ctx, juror, typed, at=act.now)
    return see_other(request, "jury", "notes", token=act.token)


def _conflict_form(receipt: str) -> FormName:
    return lambda ctx: f"conflit:{find_application(ctx, receipt).id}"


@router.post("/l/{token}/jury/conflit/{receipt}", name="jury_conflict")
def conflict(request: Request, receipt: str, act: Annotated[Act, acting(_conflict_form, juror_rule)]) -> Response:
    application = find_application(act.ctx, receipt)
    declare_conflict(act.ctx, application, juror=juror_of(act.ctx, act.bearer),
                     reason=act.field("motif", multiline=True), at=act.now)
    return see_other(request, "jury", "conflit", f"candidature-{application.id}", token=act.token)


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
