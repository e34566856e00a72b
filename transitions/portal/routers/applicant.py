"""The lead's online application, by the personal link mailed to the addresses on file for its
draft: the annex's sections to fill and save, « Vérifier », the attachments, « Déposer » before the
deadline (`applications.submit`, as file intake), and the withdrawal before the jury meets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from documents.annex import annex_docx, annex_odt
from models import drafts, partners
from models.applications import may_withdraw, withdraw_application
from models.attachments import MAX_BYTES, MEDIA_TYPES
from models.errors import InvalidInput, NotFound
from models.links import APPLICANT, Bearer, holder
from models.tables import Application
from transitions.portal.application_form import (
    LEAD_LABELS,
    PARTNER_KINDS,
    PERSON_LABELS,
    SECTIONS,
    THEMES,
    draft_screen,
    explain,
    typed_payload,
)
from transitions.portal.deps import FormName, RowId, acting, named, visit
from transitions.portal.state import Act, Visit
from transitions.portal.templating import page, see_other

router = APIRouter()
REFUSAL = "Ce lien personnel ne donne pas accès à cette candidature."


def applicant(bearer: Bearer, params: Mapping[str, Any]) -> bool:
    """The link of the lead the path names (`siren`)."""
    return bearer.role == APPLICANT and bearer.siren == params.get("siren")


Applicant = Annotated[Visit, visit(applicant, REFUSAL)]
FORMS = {"brouillon": "brouillon", "piece": "piece", "deposer": "deposer", "retirer": "retirer",
         "partenaires": "partenaires"}


@router.get("/l/{token}/candidat/{siren}", response_class=HTMLResponse, name="applicant")
def draft_page(request: Request, seen: Applicant, siren: str, fait: str | None = None) -> HTMLResponse:
    screen = draft_screen(seen.ctx, drafts.find_draft(seen.ctx, siren), seen.now, verify=fait == "verifie")
    return page(request, seen, "candidature.html", f"Candidature de {screen.draft.lead_name}", fait, ecran=screen,
                siren=siren, sections=SECTIONS, personnes=PERSON_LABELS, chef=LEAD_LABELS, types=PARTNER_KINDS,
                themes=THEMES, listes=drafts.PEOPLE, formulaires=FORMS, echeance=seen.ctx.definition.call.deadline)


@router.get("/l/{token}/candidat/{siren}/brouillon.{kind}", name="applicant_annex")
def draft_annex(seen: Applicant, siren: str, kind: Literal["docx", "odt"]) -> Response:
    """« Télécharger mon brouillon »: the draft as saved, as the call's annex filled with it."""
    payload = drafts.find_draft(seen.ctx, siren).payload
    data = (annex_docx if kind == "docx" else annex_odt)(seen.ctx.definition, payload)
    return Response(data, media_type=MEDIA_TYPES[kind],
                    headers={"content-disposition": f'attachment; filename="brouillon-{siren}.{kind}"'})


@router.post("/l/{token}/candidat/{siren}/enregistrer", name="applicant_save")
def save(request: Request, siren: str,
         act: Annotated[Act, acting(named("brouillon"), applicant, max_files=0, max_fields=400)]) -> Response:
    """« Enregistrer » (or « Vérifier »: saved, then checked on the page)."""
    draft = drafts.find_draft(act.ctx, siren)
    drafts.save(act.ctx, draft, typed_payload(act.form, draft), at=act.now, by=holder(act.bearer))
    checking = act.field("action") == "verifier"
    return see_other(request, "applicant", "verifie" if checking else "enregistre",
                     "verification" if checking else "", token=act.token, siren=siren)


def _upload(form: FormData) -> UploadFile:
    upload = form.get("fichier")
    if upload is None or isinstance(upload, str) or not upload.filename:
        raise InvalidInput("Choisissez le fichier à joindre. Rien n'a été enregistré.")
    return upload


@router.post("/l/{token}/candidat/{siren}/piece", name="applicant_file")
def add_file(request: Request, siren: str,
             act: Annotated[Act, acting(named("piece"), applicant, _upload, max_files=1, max_fields=10)]) -> Response:
    upload = _upload(act.form)
    drafts.add_file(act.ctx, drafts.find_draft(act.ctx, siren), role=act.field("role"),
                    filename=upload.filename or "", data=upload.file.read(MAX_BYTES + 1), at=act.now,
                    by=holder(act.bearer), description=act.field("description"))
    return see_other(request, "applicant", "piece", "pieces", token=act.token, siren=siren)


def _remove_form(siren: str, file_id: RowId) -> FormName:
    return lambda ctx: f"retirer-piece:{file_id}"


@router.post("/l/{token}/candidat/{siren}/piece/{file_id}/retirer", name="applicant_remove_file")
def remove_file(request: Request, siren: str, file_id: RowId,
                act: Annotated[Act, acting(_remove_form, applicant)]) -> Response:
    drafts.remove_file(act.ctx, drafts.find_draft(act.ctx, siren), file_id, at=act.now, by=holder(act.bearer))
    return see_other(request, "applicant", "piece-retiree", "pieces", token=act.token, siren=siren)


@router.post("/l/{token}/candidat/{siren}/deposer", name="applicant_deposit")
def deposit(request: Request, siren: str, act: Annotated[Act, acting(named("deposer"), applicant)]) -> Response:
    """« Déposer »: the same submission as file intake; the receipt number shows on the page."""
    _, recorded = drafts.deposit(act.ctx, drafts.find_draft(act.ctx, siren), explain, at=act.now,
                                 by=f"portail:{act.bearer.person}")
    return see_other(request, "applicant", "depose" if recorded else "deja-depose", "depot", token=act.token,
                     siren=siren)


@router.post("/l/{token}/candidat/{siren}/partenaires", name="applicant_partners")
def ask_partners(request: Request, siren: str,
                 act: Annotated[Act, acting(named("partenaires"), applicant)]) -> Response:
    """« Demander la confirmation des partenaires »: each partner with a contact's address not asked yet."""
    done = partners.request_confirmations(act.ctx, drafts.find_draft(act.ctx, siren), at=act.now,
                                          by=f"portail:{act.bearer.person}")
    return see_other(request, "applicant", "partenaires" if done.asked else "partenaires-aucun", "confirmations",
                     token=act.token, siren=siren)


def _deposited(ctx: Any, siren: str) -> Application:
    application = drafts.application_of(ctx, drafts.find_draft(ctx, siren))
    if application is None:
        raise NotFound("Aucune candidature n'a été déposée : il n'y a rien à retirer.")
    return application


@router.get("/l/{token}/candidat/{siren}/retirer", response_class=HTMLResponse, name="applicant_withdraw_page")
def withdraw_page(request: Request, seen: Applicant, siren: str) -> HTMLResponse:
    """The confirmation step of a withdrawal."""
    application = _deposited(seen.ctx, siren)
    return page(request, seen, "retirer.html", f"Retirer la candidature {application.receipt_number}", None,
                candidature=application, verdict=may_withdraw(seen.ctx, application, seen.now), siren=siren)


@router.post("/l/{token}/candidat/{siren}/retirer", name="applicant_withdraw")
def withdraw(request: Request, siren: str, act: Annotated[Act, acting(named("retirer"), applicant)]) -> Response:
    if act.field("confirme") != "oui":
        raise InvalidInput("Cochez la case de confirmation pour retirer la candidature. Rien n'a été enregistré.")
    withdraw_application(act.ctx, _deposited(act.ctx, siren), reason=act.field("motif", multiline=True),
                         at=act.now, by=f"portail:{act.bearer.person}")
    return see_other(request, "applicant", "retire", token=act.token, siren=siren)
