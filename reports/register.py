"""The register of processing (`models.processing.Register`) as a French Markdown document: the
repository's `docs/registre-des-traitements.md` (`transitions registre --out …`; a test fails when
the file is not this rendering of the data)."""

from __future__ import annotations

import re

from models.processing import Register

FIELDS = (("Finalité", "purpose"), ("Base légale", "legal_basis"), ("Personnes concernées", "persons"),
          ("Catégories de données", "data"), ("Destinataires", "recipients"), ("Durées de conservation", "retention"),
          ("Transferts hors de l'Union européenne", "transfers"), ("Mesures de sécurité", "security"))
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def _text(value: str) -> str:
    """One value as Markdown text: its markup characters escaped (a programme's names are data)."""
    return _SPECIAL.sub(r"\\\1", " ".join(value.split()))


def render_register(register: Register) -> str:
    """The register as Markdown, in French: the controller, then one section per processing."""
    programmes = ", ".join(f"« {_text(title)} »" for title in register.programmes) or "(aucun programme)"
    lines = ["# Registre des activités de traitement", "",
             "Registre tenu au titre de l'article 30-1 du règlement général sur la protection des données (RGPD).",
             "Ce document est produit par `transitions registre` à partir des données du registre",
             "(`models/processing.py`) et du fichier du programme ; ne le modifiez pas à la main.", "",
             f"- Responsable du traitement : {_text(register.controller)}",
             f"- Contact pour l'exercice des droits : {_text(register.contact)}",
             f"- Programme(s) : {programmes}", ""]
    for number, processing in enumerate(register.processings, start=1):
        lines += [f"## {number}. {_text(processing.title)}", ""]
        for label, name in FIELDS:
            value = getattr(processing, name)
            if isinstance(value, str):
                lines.append(f"- **{label}** : {_text(value)}")
            else:
                lines.append(f"- **{label}** :")
                lines += [f"  - {_text(item)}" for item in value]
        lines.append("")
    return "\n".join(lines)
