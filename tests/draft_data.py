"""An online application's data for tests: the CU d'Arras's example (examples/) as the draft's page
posts it, and its two forms (.docx and PDF) as files."""

from __future__ import annotations

from typing import Any

import yaml

from tests.conftest import EXAMPLES

ARRAS = "200033579"
ACHICOURT = "216200048"
"""A commune of the CU d'Arras."""
UNKNOWN = "100000009"
"""A well-formed SIREN the register does not know."""


def arras_form() -> dict[str, Any]:
    return yaml.safe_load((EXAMPLES / "candidature-cu-arras.yaml").read_text(encoding="utf-8"))


def arras_fields() -> tuple[dict[str, str], list[str]]:
    """The example's form as the page's fields (`chef-nom`, `referents_politiques-0-courriel`…) and themes."""
    form = arras_form()
    fields = {f"chef-{k}": str(v) for k, v in form["collectivite_chef_de_file"].items() if k not in ("type", "siren")}
    for name in ("responsables_operationnels", "referents_politiques", "referents_techniques", "partenaires"):
        for i, row in enumerate(form.get(name, [])):
            fields.update({f"{name}-{i}-{k}": str(v) for k, v in row.items() if isinstance(v, str)})
    for name in ("point_contact_cerdd", "motivations", "pistes_de_travail", "partenaires_potentiels", "besoins"):
        fields[name] = form[name]
    return fields, list(form["themes"])


def arras_files() -> dict[str, bytes]:
    return {name: (EXAMPLES / "pieces" / name).read_bytes()
            for name in ("formulaire-cu-arras.docx", "formulaire-cu-arras.pdf")}
