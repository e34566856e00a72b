"""The portal's legal pages, public and without a link: the legal notice (LCEN art. 6-III), personal
data (RGPD art. 13-14, from the register of processing) and the accessibility declaration (loi
2005-102 art. 47, RGAA 4.1). Every page's footer links to them (`base.html`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from config.settings import get_settings
from models.db import session_scope
from models.read.legal import LegalPages, legal_pages
from transitions.portal.deps import PortalDep

router = APIRouter()

ACCESSIBILITY_CHECKED = "6 décembre 2026"
"""When the accessibility declaration was written and its automated checks last run (its date)."""


def read_legal(portal: PortalDep) -> LegalPages:
    settings = get_settings()
    with session_scope(portal.database_url) as session:
        return legal_pages(session, portal.programme, host=settings.legal_host,
                           address=settings.legal_publisher_address, link_days=settings.portal_link_days)


LegalDep = Annotated[LegalPages, Depends(read_legal)]


def _page(portal: Any, template: str, title: str, pages: LegalPages, **values: Any) -> HTMLResponse:
    html = portal.env.get_template(template).render(titre=title, message=None, public=True, titre_programme=None,
                                                    ecran=pages, **values)
    return HTMLResponse(html)


@router.get("/mentions-legales", response_class=HTMLResponse, name="legal_notice")
def legal_notice(portal: PortalDep, pages: LegalDep) -> HTMLResponse:
    return _page(portal, "mentions_legales.html", "Mentions légales", pages)


@router.get("/donnees-personnelles", response_class=HTMLResponse, name="personal_data")
def personal_data(portal: PortalDep, pages: LegalDep) -> HTMLResponse:
    return _page(portal, "donnees_personnelles.html", "Données personnelles", pages)


@router.get("/accessibilite", response_class=HTMLResponse, name="accessibility")
def accessibility(portal: PortalDep, pages: LegalDep) -> HTMLResponse:
    return _page(portal, "accessibilite.html", "Déclaration d'accessibilité", pages, date=ACCESSIBILITY_CHECKED)
