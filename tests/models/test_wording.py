"""Territory names take their French article, elision and agreement: « la CU d'Arras », « le SIVOM… »,
« l'Agglomération… », « d'Artois Comm. »; never « de CU », « de le », « de A… »."""

from __future__ import annotations

import pytest

from models.wording import agreement, of_person, of_territory, to_territory, with_article, withdrawn


@pytest.mark.parametrize(("name", "article", "of", "to", "ending"), [
    ("CU d'Arras", "la CU d'Arras", "de la CU d'Arras", "à la CU d'Arras", "e"),
    ("SIVOM du Ternois", "le SIVOM du Ternois", "du SIVOM du Ternois", "au SIVOM du Ternois", ""),
    ("Agglomération du Douaisis", "l'Agglomération du Douaisis", "de l'Agglomération du Douaisis",
     "à l'Agglomération du Douaisis", "e"),
    ("Établissement public du Ternois", "l'Établissement public du Ternois", "de l'Établissement public du Ternois",
     "à l'Établissement public du Ternois", ""),
    ("Artois Comm.", "Artois Comm.", "d'Artois Comm.", "à Artois Comm.", "e"),
])
def test_a_territory_takes_its_article_elision_and_agreement(name: str, article: str, of: str, to: str,
                                                             ending: str) -> None:
    assert (with_article(name), of_territory(name), to_territory(name), agreement(name)) == (article, of, to, ending)


def test_a_withdrawal_says_who_decided_it() -> None:
    assert withdrawn("CU d'Arras", by_itself=True) == "s'est retirée du programme"
    assert withdrawn("CU d'Arras", by_itself=False) == "a été retirée du programme par le Cerdd"
    assert withdrawn("SIVOM du Ternois", by_itself=False) == "a été retiré du programme par le Cerdd"


def test_a_persons_name_after_de_is_elided_before_a_vowel() -> None:
    assert [of_person(n) for n in ("Emmanuel Bertin", "Hélène Roux", "Marie  Dupont", "Yves Li")] == [
        "d'Emmanuel Bertin", "d'Hélène Roux", "de Marie Dupont", "d'Yves Li"]
