"""Checks that French is written right around a territory's name: a feminine body (« la CU
d'Arras »), a masculine one (« le SIVOM… ») and a proper name alone (« Artois Comm. ») each take
their article, contractions and agreements, never « de le » or « à la SIVOM »."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from sqlmodel import Session, select

from models.tables import Application, Intent, Organisation, Pilot


@dataclass(frozen=True)
class Name:
    """A territory's name and the phrases French builds from it."""

    name: str
    feminine: bool
    wanted: tuple[str, ...]  # phrases that must be found where the name is declined
    wrong: tuple[str, ...]  # phrases that must never be found


FEMININE = Name("CU d'Arras", True, ("la CU d'Arras", "de la CU d'Arras", "à la CU d'Arras"),
                ("de CU", "à CU", "le CU", "du CU", "au CU", "l'CU"))
MASCULINE = Name("SIVOM de la Vallée de la Lys", False,
                 ("le SIVOM de la Vallée", "du SIVOM de la Vallée", "au SIVOM de la Vallée"),
                 ("de SIVOM", "à SIVOM", "la SIVOM", "de la SIVOM", "à la SIVOM", "l'SIVOM"))
PROPER = Name("Artois Comm.", True, ("d'Artois Comm.", "à Artois Comm."),
              ("de Artois", "la Artois", "le Artois", "du Artois", "au Artois", "à la Artois"))
NAMES = [pytest.param(FEMININE, id="feminine"), pytest.param(MASCULINE, id="masculine"),
         pytest.param(PROPER, id="proper-name")]

_ALWAYS_WRONG = re.compile(
    r"\b(?:de|à) les? (?=[A-ZÉ])"  # uncontracted articles before a name (« de le SIVOM »)
    r"|\bde (?:[AEIOUÉÈÊ]|[aeiouéèê](?!\.))"  # « de » before a vowel is « d' »
    r"|\bque [AEIOUaeiouéÉ]"  # « que » before a vowel is « qu' »
    r"|\S {2,}\S"  # a double space (an empty value between two words)
    r"| [,.](?!\w)"  # a space before a comma or a full stop (an empty value at the end)
)
_PARTICIPLE = (r"\s+(?:est|a été|s'est|n'a pas été|n'est pas) "
               r"(?:retiré|retenu|signé|accepté|proposé|sélectionné|engagé)(e?)\b")
"""A participle after « être » agrees with the territory before it (« la CU … est retenue »)."""


class _Visible(HTMLParser):
    """The text a reader sees: tags, scripts and styles left out, each text node kept apart."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "title"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "title"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(" ".join(data.replace("\xa0", " ").split(" ")).strip("\n"))


def visible(page: str) -> str:
    """The visible text of an HTML page, one line per text node."""
    parser = _Visible()
    parser.feed(page)
    return "\n".join(line for part in parser.parts for line in part.splitlines() if line.strip())


def bad_forms(text: str, name: Name) -> list[str]:
    """Every wrong phrase found in `text` (an empty list when the French is right)."""
    found = [match.group(0) for match in _ALWAYS_WRONG.finditer(text)]
    found += [wrong for wrong in name.wrong if re.search(rf"(?<![\w']){re.escape(wrong)}\b", text)]
    found += [m.group(0) for m in re.finditer(re.escape(name.name) + _PARTICIPLE, text)
              if bool(m.group(1)) != name.feminine]
    return found


def rename_territories(session: Session, name: str) -> None:
    """Every territory of the programme (pilots, applications, intents, the applicants'
    organisations) renamed `name` in the session."""
    for row in session.exec(select(Pilot)).all():
        row.name = name
    for application in session.exec(select(Application)).all():
        application.lead_name = name
    for intent in session.exec(select(Intent)).all():
        intent.name = name
    for organisation in session.exec(select(Organisation).where(Organisation.siren.is_not(None))).all():  # type: ignore[union-attr]
        organisation.name = name
