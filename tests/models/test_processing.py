"""The register of processing as data (`models.processing`): the durations the programme file may
give (`retention:`) read defensively into French texts, every processing complete, and the
repository's `docs/registre-des-traitements.md` the rendering of this very data (it fails when stale)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from models.processing import RETENTION_KEYS, TO_COMPLETE, register, retention_texts
from reports.register import render_register
from tests.conftest import PROGRAMME, PROJECT_ROOT
from transitions.cli import app
from transitions.programmes import load_programme

DOC = PROJECT_ROOT / "docs" / "registre-des-traitements.md"
RETENTION = {"applications_not_selected": "P24M", "pilots": "P60M", "notices": "P12M"}


def test_the_durations_come_from_the_programme_when_it_has_them() -> None:
    as_mapping = SimpleNamespace(title="A", retention=RETENTION)
    as_model = SimpleNamespace(title="A", retention=SimpleNamespace(**RETENTION))
    expected = {"applications_not_selected": "24 mois après la décision du jury",
                "pilots": "60 mois après la fin de l'accompagnement du pilote",
                "notices": "12 mois après l'envoi de l'avis (ou son abandon)"}
    assert retention_texts([as_mapping]) == expected == retention_texts([as_model])
    assert retention_texts([SimpleNamespace(title="A", retention={"pilots": timedelta(days=1826)})])["pilots"] == (
        "1826 jours après la fin de l'accompagnement du pilote")


@pytest.mark.parametrize("retention", [None, {}, {"pilots": "P24X", "notices": 12, "applications_not_selected": ""},
                                       SimpleNamespace(pilots=None)])
def test_a_missing_or_unreadable_duration_says_it_is_to_complete(retention: object) -> None:
    definition = SimpleNamespace(title="A", retention=retention)
    assert retention_texts([definition]) == dict.fromkeys(RETENTION_KEYS, TO_COMPLETE)
    assert retention_texts([SimpleNamespace(title="A")]) == dict.fromkeys(RETENTION_KEYS, TO_COMPLETE)
    assert retention_texts([]) == dict.fromkeys(RETENTION_KEYS, TO_COMPLETE)


def test_programmes_with_different_durations_are_each_named() -> None:
    texts = retention_texts([SimpleNamespace(title="Appel 2015", retention=RETENTION),
                             SimpleNamespace(title="Appel 2016", retention={**RETENTION, "pilots": "P10Y"})])
    assert texts["pilots"] == ("Appel 2015 : 60 mois après la fin de l'accompagnement du pilote ; "
                               "Appel 2016 : 10 ans après la fin de l'accompagnement du pilote")
    assert texts["notices"] == "12 mois après l'envoi de l'avis (ou son abandon)"


def test_the_register_of_the_2015_programme_names_every_processing_in_full() -> None:
    definition = load_programme(PROGRAMME).definition
    found = register([definition])
    assert found.controller == "Centre Ressource du Développement Durable (Cerdd)"
    assert found.contact == "aboutonne@cerdd.org"
    assert [p.key for p in found.processings] == ["appel", "jury", "accompagnement", "avis", "equipe", "boite",
                                                  "journal"]
    for processing in found.processings:
        assert all(getattr(processing, name) for name in ("title", "purpose", "legal_basis", "persons", "data",
                                                          "recipients", "retention", "security", "transfers"))
        assert "art. 6-1" in processing.legal_basis, processing.key
        assert processing.transfers == "Aucun transfert hors de l'Union européenne."
    # with the three durations, they appear where each applies
    dated = register([SimpleNamespace(title=definition.title, organiser=definition.organiser, retention=RETENTION)])
    by_key = {p.key: p for p in dated.processings}
    assert "Candidature non retenue : 24 mois après la décision du jury." in by_key["appel"].retention
    assert any("60 mois" in line for line in by_key["accompagnement"].retention)
    assert any("12 mois après l'envoi" in line for line in by_key["avis"].retention)


def test_the_document_in_docs_is_the_rendering_of_the_register() -> None:
    expected = render_register(register([load_programme(PROGRAMME).definition]))
    assert DOC.read_text(encoding="utf-8") == expected, (
        "docs/registre-des-traitements.md n'est plus à jour : lancez "
        "« transitions registre --out docs/registre-des-traitements.md »")


def test_transitions_registre_writes_the_document(tmp_path: Path) -> None:
    out = tmp_path / "registre.md"
    result = CliRunner().invoke(app, ["registre", "--programme", str(PROGRAMME), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")
    missing = CliRunner().invoke(app, ["registre", "--programme", str(tmp_path / "absent.yaml")])
    assert missing.exit_code == 2 and "absent.yaml" in missing.output and "Traceback" not in missing.output


def test_markup_in_a_programme_name_stays_text() -> None:
    organiser = SimpleNamespace(full_name="Cerdd | <b>*gras*</b>", name="Cerdd", manager="x@example.org")
    text = render_register(register([SimpleNamespace(title="[lien](javascript:x)", organiser=organiser)]))
    assert "\\| \\<b\\>\\*gras\\*\\</b\\>" in text and "« \\[lien\\](javascript:x) »" in text


def test_the_register_tells_the_public_values_not_settings_and_who_deletes_the_mailbox() -> None:
    found = register([load_programme(PROGRAMME).definition], link_days=90)
    text = render_register(found)
    assert "PORTAL" not in text and "LINK_DAYS" not in text
    by_key = {p.key: p for p in found.processings}
    assert any("valable 90 jours" in line for line in by_key["avis"].retention)
    assert any("le logiciel ne les efface pas" in line and "l'équipe du Cerdd les supprime" in line
               for line in by_key["boite"].retention)
