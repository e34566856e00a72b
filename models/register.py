"""The 2015 register of EPCI and their member communes: who may lead an application."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field

from models.errors import InvalidInput


@dataclass(frozen=True)
class Commune:
    insee: str
    siren: str
    name: str
    population: int


@dataclass(frozen=True)
class Epci:
    siren: str
    name: str
    nature: str
    population: int
    communes: tuple[Commune, ...] = field(repr=False)

    def has_commune(self, *, siren: str | None = None, insee: str | None = None) -> bool:
        return any((siren and c.siren == siren) or (insee and c.insee == insee) for c in self.communes)


@dataclass(frozen=True)
class Register:
    epcis: dict[str, Epci]
    communes: dict[str, tuple[Commune, Epci]]

    def epci(self, siren: str) -> Epci | None:
        return self.epcis.get(siren)

    def commune(self, siren: str) -> tuple[Commune, Epci] | None:
        return self.communes.get(siren)


_parsed: dict[tuple[str, tuple[str, ...]], Register] = {}


def parse_register(sha256: str, departements: tuple[str, ...], content: Callable[[], str]) -> Register:
    """The register whose CSV text has this SHA-256, parsed once per process (`content` is
    called only the first time); only communes of the given départements count."""
    key = (sha256, departements)
    if key not in _parsed:
        _parsed[key] = read_register(content(), departements)
    return _parsed[key]


def read_register(text: str, departements: tuple[str, ...] = ("59", "62")) -> Register:
    """Read the semicolon-separated register (columns siren, nom, nature, ptot, insee, siren_com,
    nom_com, ptot_com); InvalidInput when a column is missing or a number is not one."""
    columns = ("siren", "nom", "nature", "ptot", "insee", "siren_com", "nom_com", "ptot_com")
    try:
        reader = csv.DictReader(io.StringIO(text), delimiter=";")
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInput(f"Le registre des EPCI est mal formé : colonne(s) manquante(s) : {', '.join(missing)}.")
        rows = list(reader)
    except csv.Error:
        raise InvalidInput("Le registre des EPCI est mal formé : ce n'est pas un CSV séparé par « ; ».") from None
    members: dict[str, list[Commune]] = {}
    heads: dict[str, dict[str, str]] = {}
    for line, row in enumerate(rows, start=2):
        try:
            if not row["insee"].startswith(departements):
                continue
            heads.setdefault(row["siren"], row)
            members.setdefault(row["siren"], []).append(
                Commune(row["insee"], row["siren_com"], row["nom_com"], _count(row["ptot_com"]))
            )
            _count(row["ptot"])
        except (KeyError, ValueError, TypeError, AttributeError):
            raise InvalidInput(f"Le registre des EPCI est mal formé (ligne {line}) : valeur manquante ou "
                               "population qui n'est pas un nombre.") from None
    epcis = {
        siren: Epci(siren, row["nom"], row["nature"], _count(row["ptot"]), tuple(members[siren]))
        for siren, row in heads.items()
    }
    if not epcis:
        raise InvalidInput(f"Le registre des EPCI ne compte aucun EPCI des départements {', '.join(departements)}.")
    communes = {c.siren: (c, epci) for epci in epcis.values() for c in epci.communes}
    return Register(epcis, communes)


def _count(text: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 12:
        raise ValueError(text)
    return int(text)
