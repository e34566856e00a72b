"""What a newcomer sees after `transitions demo`: a replacement pilot's charter states its own terms,
a withdrawn pilot's pages say so, the juror's page after the meeting, the consultancy's page."""

from __future__ import annotations

import html
import re

from models.charter import charter_sha256, charter_text, extend_charter
from models.db import session_scope
from models.pilots import find_pilot
from models.withdrawal import withdraw
from tests.conftest import at, ctx_of
from tests.portal.conftest import ARRAS, consultancy, juror, link, territory

FLANDRE, MAUBEUGE = "200040947", "200043396"


def _withdraw_flandre(url: str) -> None:
    with session_scope(url) as session:
        ctx = ctx_of(session)
        withdraw(ctx, find_pilot(ctx, FLANDRE), reason="Délibération non obtenue", at=at("2015-07-06T10:00"))


def test_a_later_pilots_charter_states_its_own_terms(selected: str) -> None:
    """A pilot with its own, later deadline (a replacement, or an extension) signs words that name no
    calendar start date (the accompaniment starts at the last signature) and no deadline: the
    deadline is shown beside the text, so extending it does not change what is signed."""
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        before = charter_sha256(ctx, find_pilot(ctx, FLANDRE))
        later = find_pilot(ctx, FLANDRE)
        extend_charter(ctx, later, to=at("2015-07-21T18:00"), reason="Place proposée le 6 juillet",
                       at=at("2015-06-10T10:00"))
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        original, replacement = charter_text(ctx, find_pilot(ctx, ARRAS)), charter_text(ctx, find_pilot(ctx, FLANDRE))
        stable = charter_sha256(ctx, find_pilot(ctx, FLANDRE))
    for text in (original, replacement):
        assert "commence à la date de la dernière des trois signatures" in text
        assert "1er juillet" not in text and "- le prestataire : " in text and ") (" not in text
        assert "juillet" not in text and "juin" not in text  # no deadline in the signed words
    assert stable == before  # the extension changed the deadline, not the text
    with session_scope(selected) as session:  # the same pilot state gives the same words
        assert charter_sha256(ctx_of(session), find_pilot(ctx_of(session), FLANDRE)) == stable


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_a_withdrawn_pilots_pages_say_so_offer_nothing_and_show_nothing_late(selected: str, client_for,  # noqa: ANN001
                                                                              clock) -> None:  # noqa: ANN001
    _withdraw_flandre(selected)
    clock.now = at("2015-07-08T10:00")  # after the signing deadline of 26 June: nothing shown late
    _, own = link(selected, territory(FLANDRE), when="2015-07-07T09:00")
    _, cerdd = link(selected, territory(FLANDRE, "cerdd"), when="2015-07-07T09:00")
    _, firm = link(selected, consultancy(), when="2015-07-07T09:00")
    client = client_for(selected)
    pages = {path: client.get(path) for path in (own, cerdd, firm)}
    for path, answer in pages.items():
        assert answer.status_code == 200, answer.text
        own_part = answer.text.split(f'<section aria-labelledby="pilote-{FLANDRE}">')[-1].split("</section>")[0]
        words = " ".join(_text(own_part).split()).split("Les territoires pilotes au")[0]  # not the overview
        withdrawn = "La CC de Flandre Intérieure a été retirée du programme par le Cerdd le lundi 6 juillet 2015"
        assert withdrawn in words, path
        assert "Délibération non obtenue" in words
        assert "En retard" not in words and "charte en attente" not in words
        assert "Signer la charte" not in words
    territory_words = " ".join(_text(pages[own].text).split())
    assert "État : retiré du programme" in territory_words and "Plus rien n'est attendu" in territory_words
    assert "seront planifié" not in territory_words
    assert "<form" not in pages[own].text
    firm_block = _text(pages[firm].text.split(f'<section aria-labelledby="pilote-{FLANDRE}">')[1])
    told = "Aucun livrable : la CC de Flandre Intérieure a été retirée du programme par le Cerdd"
    assert told in " ".join(firm_block.split())
    assert "Le Cerdd : charte de la CC de Flandre Intérieure" in _text(pages[cerdd].text)


def test_after_the_meeting_the_juror_reads_the_applications_own_scores_and_the_decision(
        selected: str, client_for) -> None:  # noqa: ANN001
    _, path = link(selected, juror(), when="2015-06-05T09:00")
    answer = client_for(selected).get(path)
    assert answer.status_code == 200
    words = " ".join(_text(answer.text).split())
    assert "Jury : feuille de notes — Représentant de la DREAL" in words and "la feuille de notes de" not in words
    assert "Les notes ne s'enregistrent plus" in words
    assert "Territoires retenus comme pilotes : " in words
    retained = words.split("Territoires retenus comme pilotes : ")[1].split(".")[0]
    assert set(retained.split(", ")) == {"CU d'Arras", "CA de Lens - Liévin", "CC de Flandre Intérieure"}
    assert len(re.findall(r"\(CERDD-2015-\d+\) Décision du jury : retenue —", words)) == 3
    assert re.search(r"\(\d+\) \d+/\d+", words), "the juror's own scores, read-only"
    assert "<select" not in answer.text and "<form" not in answer.text  # nothing to change


def test_the_favicon_is_answered_without_error(selected: str, client_for) -> None:  # noqa: ANN001
    answer = client_for(selected).get("/favicon.ico")
    assert answer.status_code == 204 and answer.content == b""
    assert {"content-security-policy", "x-content-type-options", "referrer-policy"} <= set(answer.headers)


def test_past_sessions_show_held_or_cancelled_and_the_attendance(selected: str, client_for,  # noqa: ANN001
                                                                   clock) -> None:  # noqa: ANN001
    from models import training
    from tests.conftest import start_arras

    start_arras(selected)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        arras = find_pilot(ctx, ARRAS)
        first, second = training.sessions_of(ctx, arras)[:2]
        training.record_attendance(ctx, first, person="Claire Dufour", organisation="CU d'Arras", present=True,
                                   at=first.ends_at)
        training.record_attendance(ctx, first, person="Jean Martin", organisation="CU d'Arras", present=False,
                                   at=first.ends_at)
        training.cancel(ctx, second, reason="Salle indisponible", at=first.ends_at)
        first_key, second_key, clock.now = first.key, second.key, second.ends_at
    _, own = link(selected, territory(), when="2015-07-01T09:00")
    page = client_for(selected).get(own).text

    def block(key: str) -> str:
        part = page.split(f'<section id="session-{key}"')[1].split("</section>")[0]
        return " ".join(_text(part).split())

    assert "— tenue ." in block(first_key)
    assert "Présences relevées : 1 présent (Claire Dufour), 1 absent." in block(first_key)
    assert "— annulée (Salle indisponible)" in block(second_key) and "Présences" not in block(second_key)
