"""The pages' templates: one Jinja environment, a page rendered from a screen's values (keys in
French), the error page, and the redirect after an action."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.applications import Starlette
from starlette.routing import NoMatchFound

from models.clock import format_paris, paris
from models.read.pilot import banner
from models.staff import actor_label
from models.tables import label
from models.text import visible
from models.wording import agreement, of_territory, to_territory, with_article
from transitions.portal.state import Visit

TEMPLATES = Path(__file__).resolve().parent / "templates"

DONE = {
    "signature": "Votre signature est enregistrée. Merci !",
    "deja-signe": "La charte était déjà signée au nom de votre partie : rien n'a changé.",
    "reponse": "Votre réponse est enregistrée.",
    "remise": "Le livrable est remis : le Cerdd va l'examiner.",
    "deja-remis": "Ce livrable était déjà remis : rien n'a changé.",
    "demande": "Votre demande de nouvelle échéance est transmise au Cerdd, qui décidera.",
    "notes": "Vos notes sont enregistrées (brouillon : pensez à soumettre votre feuille avant la réunion du jury).",
    "conflit": "Votre conflit d'intérêts est enregistré : vos notes sur cette candidature ne comptent pas.",
    "soumis": "Votre feuille de notes est soumise. Merci !",
    "decision": "Votre décision est enregistrée ; le prestataire en est informé si l'échéance change.",
    "enregistre": "Votre candidature est enregistrée (brouillon : elle n'est pas encore déposée).",
    "verifie": "Votre candidature est enregistrée ; le résultat de la vérification est ci-dessous.",
    "piece": "La pièce est jointe à votre candidature.",
    "piece-retiree": "La pièce est retirée de votre candidature.",
    "depose": "Votre candidature est déposée : l'accusé de réception part par courriel.",
    "deja-depose": "Cette version était déjà déposée : rien n'a changé.",
    "retire": "Votre candidature est retirée ; le Cerdd en est informé.",
    "deconnecte": "Vous êtes déconnecté·e.",
    "relance": "L'avis est remis en envoi : il partira à la prochaine distribution.",
    "partout": "Toutes vos sessions sont fermées, sur tous vos appareils : reconnectez-vous ici.",
    "session": "Connectez-vous pour ouvrir l'espace de l'équipe.",
    "mot-de-passe": "Votre mot de passe est changé : connectez-vous avec le nouveau.",
    "partenaires": "Les demandes de confirmation sont envoyées aux contacts des partenaires.",
    "partenaires-aucun": "Aucune nouvelle demande : chaque partenaire avec un courriel de contact est déjà sollicité.",
    "partenaire-confirme": "Votre participation est confirmée ; le chef de file en est informé. Merci !",
    "partenaire-decline": "Votre réponse est enregistrée : vous déclinez ; le chef de file en est informé.",
    "session-deplacee": "La session est déplacée ; les invités reçoivent la mise à jour de leur agenda.",
    "session-inchangee": "La session était déjà à cette date et à ce lieu : rien n'a changé.",
    "session-annulee": "La session est annulée ; les invités reçoivent l'annulation dans leur agenda.",
    "session-deja-annulee": "La session était déjà annulée : rien n'a changé.",
    "emargement": "L'émargement est enregistré.",
    "livrable-accepte": "Le livrable est accepté ; le prestataire en est informé.",
    "livrable-deja-accepte": "Le livrable était déjà accepté : rien n'a changé.",
    "livrable-renvoye": "Le livrable est renvoyé pour reprise avec votre commentaire ; le prestataire en est informé.",
    "report-accorde": "La nouvelle échéance est accordée ; le prestataire en est informé.",
    "report-refuse": "La demande de nouvelle échéance est refusée.",
    "lien-envoye": "Le lien personnel est envoyé par courriel ; les anciens liens de cette personne ne marchent plus.",
    "lien-revoque": "Les liens de cette personne sont révoqués ; ceux de ses collègues fonctionnent toujours.",
    "lien-aucun": "Cette personne n'avait aucun lien : rien à révoquer.",
    "jury-decision": "La décision du jury est enregistrée ; les candidats en sont informés.",
    "charte-prolongee": "Le délai de signature est prolongé ; les parties en sont informées.",
    "charte-inchangee": "La charte avait déjà cette date limite : rien n'a changé.",
    "pilote-retire": "Le pilote est retiré du programme ; ses parties en sont informées.",
}
"""The confirmations a page shows after an action (chosen by key: nothing typed is reflected)."""

TITLES = {400: "Formulaire refusé", 401: "Connexion requise", 429: "Trop de tentatives",
          403: "Accès refusé", 404: "Page introuvable", 409: "Action impossible",
          410: "Lien périmé", 411: "Requête refusée", 413: "Fichier trop volumineux", 415: "Type de fichier refusé",
          422: "Saisie à corriger", 405: "Action non permise", 500: "Erreur interne", 503: "Service indisponible"}


def environment() -> Environment:
    """The pages' one Jinja environment: autoescape on, undefined names an error, French filters."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["date_fr"] = lambda value, with_time=True: format_paris(value, with_time=with_time)
    env.filters["jour_fr"] = lambda value: format_paris(value, with_time=False)
    env.filters["etat"] = label
    env.filters["visible"] = visible
    env.filters["iso_jour"] = lambda value: paris(value).date().isoformat()
    env.filters["de_territoire"] = of_territory
    env.filters["a_territoire"] = to_territory
    env.filters["Article"] = lambda name: (lambda phrase: phrase[:1].upper() + phrase[1:])(with_article(name))
    env.filters["article"] = with_article
    env.filters["qui"] = actor_label
    env.filters["accord"] = agreement
    return env


def page(request: Request, visit: Visit, template: str, title: str, done: str | None, **values: Any) -> HTMLResponse:
    """A page for the link's bearer: its banner, the confirmation `done` names, `url_for` (paths on
    the bearer's link) and `jeton` (a form's one-time token) for the template."""
    top = banner(visit.ctx)
    visit.release()

    def url_for(name: str, /, **params: Any) -> str:
        return path_for(request.app, name, token=visit.token, **params)

    html = visit.portal.env.get_template(template).render(
        titre=title, titre_programme=top.programme_title, rejeu=top.replayed_at, message=DONE.get(done or ""),
        maintenant=visit.now, url_for=url_for, jeton=visit.form, **values)
    return HTMLResponse(html)


def path_for(app: Starlette, name: str, /, **params: Any) -> str:
    """`app.url_path_for(name, **params)` through an index of the application's routes by name, built
    once (Starlette asks every route in turn for each link: 80 routes, 50 links on a page); a name the
    index does not hold is asked of the application."""
    index: dict[str, list[Any]] | None = getattr(app.state, "routes_by_name", None)
    if index is None:
        index = app.state.routes_by_name = _routes_by_name(app)
    for route in index.get(name, ()):
        try:
            return str(route.url_path_for(name, **params))
        except NoMatchFound:
            continue
    return str(app.url_path_for(name, **params))


def _routes_by_name(app: Starlette) -> dict[str, list[Any]]:
    """Each route by its name, in the application's order (FastAPI's included routers opened); empty
    (every link asked of the application) when a route does not say its name."""
    index: dict[str, list[Any]] = {}
    for route in app.routes:
        opened = getattr(route, "effective_route_contexts", None)  # FastAPI ≥ 0.130: a router included whole
        for each in opened() if callable(opened) else [route]:
            name = getattr(each, "name", None)
            if not isinstance(name, str) or not callable(getattr(each, "url_path_for", None)):
                return {}
            index.setdefault(name, []).append(each)
    return index


def error_html(env: Environment, status: int, message: str, details: list[str] | None = None,
               back: str | None = None, renew: tuple[str, str] | None = None, *, staff: bool = False) -> bytes:
    """The French error page for `status`; `renew` (the form's address and one-time token): the
    « Recevoir un nouveau lien » form of a link that no longer works; `staff`: a back-office page's
    (its footer for the team, not for a personal link)."""
    return env.get_template("erreur.html").render(
        titre=TITLES.get(status, "Erreur"), code=status, texte=message, message=None, details=details or [],
        retour=back, titre_programme=None, renouveler=renew, equipe=staff).encode("utf-8")


def see_other(request: Request, name: str, done: str, fragment: str = "", **params: Any) -> RedirectResponse:
    """Back to the page `name` after an action, its confirmation `done` shown (303)."""
    path = request.app.url_path_for(name, **params)
    return RedirectResponse(f"{path}?fait={done}" + (f"#{fragment}" if fragment else ""), status_code=303)
