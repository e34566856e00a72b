"""The 2015 register of EPCI and their member communes: who may lead an application."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

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


@lru_cache(maxsize=8)
def load_register(path: Path, departements: tuple[str, ...] = ("59", "62")) -> Register:
    """Read the semicolon-separated register; only communes of the given départements count."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter=";"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"Le registre des EPCI {path} est illisible : {exc}.") from None
    members: dict[str, list[Commune]] = {}
    heads: dict[str, dict[str, str]] = {}
    try:
        for row in rows:
            if not row["insee"].startswith(departements):
                continue
            heads.setdefault(row["siren"], row)
            members.setdefault(row["siren"], []).append(
                Commune(row["insee"], row["siren_com"], row["nom_com"], int(row["ptot_com"]))
            )
    except (KeyError, ValueError) as exc:
        raise InvalidInput(f"Le registre des EPCI {path} est mal formé : {exc}.") from None
    epcis = {
        siren: Epci(siren, row["nom"], row["nature"], int(row["ptot"]), tuple(members[siren]))
        for siren, row in heads.items()
    }
    communes = {c.siren: (c, epci) for epci in epcis.values() for c in epci.communes}
    return Register(epcis, communes)
