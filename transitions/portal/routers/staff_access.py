"""The team's single-use links (`/equipe/invitation/<clé>`, `/equipe/reinitialisation/<clé>`) and
« mot de passe oublié »: an invitation sets the password and enrols the second factor (its QR code
as inline SVG, `segno`), then shows the recovery codes once; a reset sets a new password, the
second factor still required. A link unknown: 404; used, replaced or late: 410."""

from __future__ import annotations

import segno
from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from config.settings import get_settings
from models.db import session_scope
from models.errors import InvalidInput
from models.staff import (
    INVITATION,
    MIN_PASSWORD,
    RESET,
    StaffForbidden,
    enrol,
    link_member,
    otpauth_uri,
    request_reset,
    reset_password,
)
from models.tables import StaffMember
from transitions.portal.deps import AnonymousForm, PortalDep
from transitions.portal.fields import field
from transitions.portal.staff_state import ANONYMOUS, SIGN_IN_PATH, anonymous, staff_html
from transitions.portal.state import Portal

router = APIRouter(prefix="/equipe")
FORGOTTEN = "mot-de-passe-oublie"
WRONG_CODE = ("Le code de l'application d'authentification (ou le code de secours) n'est pas bon : le mot de "
              "passe n'a pas changé et ce lien ne fonctionne plus. Demandez-en un nouveau depuis « Mot de passe "
              "oublié ».")
SENT = ("Si cette adresse est celle d'un compte actif de l'équipe, un lien pour changer le mot de passe vient d'y "
        "être envoyé ; il fonctionne une heure et ne sert qu'une fois.")


def qr_svg(uri: str) -> Markup:
    """The QR code of an otpauth URI as inline SVG (our own drawing: no script, no external image)."""
    return Markup(segno.make(uri, error="m").svg_inline(scale=5, border=2, omitsize=True))


def _invitation_page(portal: Portal, member: StaffMember, key: str, status: int = 200,
                     problems: list[str] | None = None) -> HTMLResponse:
    uri = otpauth_uri(member)
    return staff_html(portal, "equipe_invitation.html", "Activer votre compte", status=status, membre=member,
                      qr=qr_svg(uri), secret=member.totp_secret, problemes=problems or [], minimum=MIN_PASSWORD,
                      action=f"/equipe/invitation/{key}", jeton=portal.form(ANONYMOUS, f"invitation:{key[:16]}"))


@router.get("/invitation/{cle}", response_class=HTMLResponse, name="staff_invitation")
def invitation(portal: PortalDep, cle: str) -> HTMLResponse:
    with session_scope(portal.database_url) as session:
        member, _ = link_member(session, cle, INVITATION, portal.now())
        return _invitation_page(portal, member, cle)


@router.post("/invitation/{cle}", name="staff_invitation_post")
def invitation_post(portal: PortalDep, cle: str, form: AnonymousForm) -> Response:
    try:
        with anonymous(portal, form, f"invitation:{cle[:16]}") as (ctx, now):
            codes = enrol(ctx, cle, field(form, "mot_de_passe", multiline=True),
                          field(form, "confirmation", multiline=True), field(form, "code"), at=now)
    except InvalidInput as refused:
        with session_scope(portal.database_url) as session:
            member, _ = link_member(session, cle, INVITATION, portal.now())
            return _invitation_page(portal, member, cle, 422, [refused.message, *refused.details])
    return staff_html(portal, "equipe_codes.html", "Votre compte est activé", codes=codes, connexion=SIGN_IN_PATH)


@router.get("/mot-de-passe-oublie", response_class=HTMLResponse, name="staff_forgotten")
def forgotten(portal: PortalDep) -> HTMLResponse:
    return staff_html(portal, "equipe_oubli.html", "Mot de passe oublié", envoye=None,
                      jeton=portal.form(ANONYMOUS, FORGOTTEN))


@router.post("/mot-de-passe-oublie", name="staff_forgotten_post")
def forgotten_post(portal: PortalDep, form: AnonymousForm) -> HTMLResponse:
    with anonymous(portal, form, FORGOTTEN) as (ctx, now):
        request_reset(ctx, field(form, "courriel"), at=now, base_url=get_settings().portal_base_url,
                      secret=portal.secret)
    return staff_html(portal, "equipe_oubli.html", "Mot de passe oublié", envoye=SENT,
                      jeton=portal.form(ANONYMOUS, FORGOTTEN))


def _reset_page(portal: Portal, key: str, status: int = 200, problems: list[str] | None = None) -> HTMLResponse:
    return staff_html(portal, "equipe_reinitialisation.html", "Choisir un nouveau mot de passe", status=status,
                      problemes=problems or [], minimum=MIN_PASSWORD, action=f"/equipe/reinitialisation/{key}",
                      jeton=portal.form(ANONYMOUS, f"reinitialisation:{key[:16]}"))


@router.get("/reinitialisation/{cle}", response_class=HTMLResponse, name="staff_reset")
def reset(portal: PortalDep, cle: str) -> HTMLResponse:
    with session_scope(portal.database_url) as session:
        link_member(session, cle, RESET, portal.now())
    return _reset_page(portal, cle)


@router.post("/reinitialisation/{cle}", name="staff_reset_post")
def reset_post(portal: PortalDep, cle: str, form: AnonymousForm) -> Response:
    try:
        with anonymous(portal, form, f"reinitialisation:{cle[:16]}") as (ctx, now):
            changed = reset_password(ctx, cle, field(form, "mot_de_passe", multiline=True),
                                     field(form, "confirmation", multiline=True), field(form, "code"), at=now)
    except InvalidInput as refused:
        return _reset_page(portal, cle, 422, [refused.message, *refused.details])
    if not changed:
        raise StaffForbidden(WRONG_CODE)
    return RedirectResponse(f"{SIGN_IN_PATH}?fait=mot-de-passe", status_code=303)
