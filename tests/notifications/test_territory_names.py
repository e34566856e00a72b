"""Every notice kind declines a territory's name right, whether it is feminine (« la CU
d'Arras »), masculine (« le SIVOM… ») or a proper name alone (« Artois Comm. »)."""

from __future__ import annotations

import html

import pytest

from models.db import session_scope
from models.notices import CONTEXT, NoticeKind
from models.tables import Intent
from models.wording import withdrawn
from notifications.render import render_notice
from tests.conftest import ctx_of
from tests.notifications.test_render_every_kind import _sample, started  # noqa: F401 (the module's fixture)
from tests.territory_names import FEMININE, MASCULINE, NAMES, PROPER, Name, bad_forms, rename_territories, visible

NAMING = frozenset({"candidature", "pilote", "intention", "remplacant", "remplace", "candidatures", "recevables",
                    "classement", "bilans", "proposition", "formulaire", "avancement"})
"""The values that bring a territory into a notice: its name must then be found in it."""


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_notice_declines_the_territory_name(started: str, kind: NoticeKind, name: Name) -> None:  # noqa: F811
    with session_scope(started) as session:
        rename_territories(session, name.name)
        context = _sample(ctx_of(session), session, kind)
        if "intention" in context:
            context["intention"] = Intent(**{**context["intention"].model_dump(), "name": name.name})
        if "retrait" in context:  # as the Cerdd's withdrawal words it
            context["retrait"] = withdrawn(name.name, by_itself=False)
        if "formulaire" in context:
            context["formulaire"].collectivite_chef_de_file.nom = name.name
        if "chef_de_file" in context:
            context["chef_de_file"] = name.name
        rendered = render_notice(kind, context)
        session.rollback()
    for part, text in (("objet", rendered.subject), ("texte", rendered.text), ("HTML", visible(rendered.html))):
        assert not bad_forms(text, name), (part, bad_forms(text, name), text)
    if "retrait" in context:
        assert f"{name.name} {context['retrait']}" in rendered.text.replace("\n", " ")
    if CONTEXT[kind] & NAMING:
        assert name.name in rendered.text and name.name in html.unescape(rendered.html)


def test_the_checks_catch_the_wrong_forms() -> None:
    assert bad_forms("La candidature de CU d'Arras est retenue.", FEMININE) == ["de CU"]
    assert "à la SIVOM" in bad_forms("Bienvenue à la SIVOM de la Vallée de la Lys.", MASCULINE)
    assert bad_forms("Le bilan de Artois Comm. est prêt.", PROPER) == ["de A", "de Artois"]
    assert bad_forms("La charte de le SIVOM.", FEMININE) == ["de le "]
    assert bad_forms("CU d'Arras s'est retiré du programme.", FEMININE)
    assert bad_forms("Bonjour  Claire", FEMININE) == ["r  C"]
    assert not bad_forms("La CU d'Arras s'est retirée du programme.", FEMININE)
    assert not bad_forms("Le SIVOM de la Vallée de la Lys s'est retiré du programme.", MASCULINE)
    assert bad_forms("Le SIVOM de la Vallée de la Lys a été retirée du programme.", MASCULINE)
    assert not bad_forms("Le bilan d'Artois Comm. est prêt ; sa place est proposée à Artois Comm.", PROPER)
