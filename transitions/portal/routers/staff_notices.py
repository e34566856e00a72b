"""The back office's notices and audit log (issue 23): the outbox by kind and state, « Relancer »
a notice not sent (`models.outbox.retry`, as `transitions outbox retry`), and the audit log
filtered by action, actor and day, paged (`models.read.staff_notices`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.outbox import retry
from models.read.staff_notices import journal_screen, notices_screen
from models.staff import StaffAct, actor
from transitions.portal.deps import RowId, StaffDep, staff_form
from transitions.portal.staff_state import StaffAction, staff_html

router = APIRouter(prefix="/equipe")
RETRY = "relancer-avis"
Filter = Annotated[str, Query(max_length=120)]


@router.get("/avis", response_class=HTMLResponse, name="staff_notices")
def outbox(seen: StaffDep, type: Filter = "", etat: Filter = "", fait: str | None = None) -> HTMLResponse:  # noqa: A002
    screen = notices_screen(seen.ctx, kind=type, state=etat)
    return staff_html(seen, "equipe_avis.html", "Avis", done=fait, section="/equipe/avis", ecran=screen,
                      jeton=seen.form, relancer=RETRY, peut=seen.acts)


@router.post("/avis/{notice_id}/relancer", name="staff_notice_retry")
def retry_notice(notice_id: RowId,
                 action: Annotated[StaffAction, staff_form(RETRY, StaffAct.RETRY_NOTICES)]) -> Response:
    retry(action.ctx.session, notice_id, at=action.now, by=actor(action.member),
          programme_id=action.ctx.programme_id)
    return RedirectResponse("/equipe/avis?fait=relance", status_code=303)


@router.get("/journal", response_class=HTMLResponse, name="staff_journal")
def journal(seen: StaffDep, action: Filter = "", qui: Filter = "", jour: Filter = "",
            page: Annotated[int, Query(ge=1, le=10**6)] = 1) -> HTMLResponse:
    screen = journal_screen(seen.ctx, action=action, actor=qui, typed_day=jour, page=page)
    return staff_html(seen, "equipe_journal.html", "Journal", section="/equipe/journal", ecran=screen,
                      jour=jour)
