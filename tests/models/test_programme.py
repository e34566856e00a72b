from pathlib import Path

import pytest

from models.errors import InvalidInput
from models.programme import load_definition
from tests.conftest import PROGRAMME, at


def test_the_2015_programme_carries_the_call_dates() -> None:
    definition = load_definition(PROGRAMME)
    assert definition.call.launch == at("2015-04-02T09:00")
    assert definition.call.deadline == at("2015-05-07T12:00")
    assert [m.body for m in definition.jury.members][:2] == [
        "DREAL Nord-Pas de Calais", "Conseil Régional Nord-Pas de Calais"]
    assert (definition.jury.pilots.min, definition.jury.pilots.max) == (2, 3)
    assert definition.accompaniment.charter.parties == ["territoire", "cerdd", "prestataire"]
    assert len(definition.accompaniment.phases) == 5
    assert {c.email for c in definition.organiser.contacts} == {
        "ebertin@cerdd.org", "jclipovac@cerdd.org", "aboutonne@cerdd.org"}


def _broken(tmp_path: Path, old: str, new: str) -> Path:
    text = PROGRAMME.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "programme.yaml"
    path.write_text(text.replace(old, new).replace("../data/", f"{PROGRAMME.parent.parent}/data/"), encoding="utf-8")
    return path


def test_a_broken_field_is_named_with_its_line(tmp_path: Path) -> None:
    path = _broken(tmp_path, "  scale_max: 5", "  scale_max: cinq")
    with pytest.raises(InvalidInput) as error:
        load_definition(path)
    line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "scale_max" in text)
    assert error.value.details == [f"jury.scale_max (ligne {line}) : doit être un nombre entier"]


def test_dates_out_of_order_are_refused(tmp_path: Path) -> None:
    path = _broken(tmp_path, "meeting: 2015-06-04T14:00:00", "meeting: 2015-05-01T14:00:00")
    with pytest.raises(InvalidInput) as error:
        load_definition(path)
    assert "call.deadline doit précéder jury.meeting" in error.value.details[0]


def test_unknown_field_and_bad_yaml_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput) as error:
        load_definition(_broken(tmp_path, "slug: cerdd-2015", "slug: cerdd-2015\ncouleur: verte"))
    assert error.value.details[0].startswith("couleur (ligne")
    bad = tmp_path / "bad.yaml"
    bad.write_text("slug: [", encoding="utf-8")
    with pytest.raises(InvalidInput, match="YAML est mal formé"):
        load_definition(bad)


def _with_templates(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "modeles"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return _broken(tmp_path, "slug: cerdd-2015", "slug: cerdd-2015\ntemplates_dir: modeles")


def test_a_programme_can_reword_a_notice(tmp_path: Path, db_url: str) -> None:
    from sqlmodel import select

    from models.call import launch_call
    from models.context import install_programme
    from models.db import session_scope
    from models.tables import Notice

    path = _with_templates(tmp_path, {"appel_lance.txt": (
        "{% set subject %}C'est parti : {{ programme.title }}{% endset %}Bonjour {{ destinataire.name }}, "
        "l'appel est ouvert.\n")})
    with session_scope(db_url) as session:
        ctx, _ = install_programme(session, path, at("2015-04-01T09:00"), "test")
        launch_call(ctx, at("2015-04-02T09:00"))
    with session_scope(db_url) as session:
        notice = session.exec(select(Notice)).first()
    assert notice is not None
    assert notice.subject.startswith("C'est parti : Transitions économiques")
    assert notice.body_text.endswith("l'appel est ouvert.\n")
    assert "<!DOCTYPE html>" in notice.body_html  # the HTML twin keeps the default wording


def test_broken_overrides_are_refused(tmp_path: Path) -> None:
    path = _with_templates(tmp_path, {"appel_lance.txt": "{% if %}", "inconnu.txt": "x",
                                      "decision_retenue.html": "{{ candidature.lead_name }} {{ pilote.name }}"})
    with pytest.raises(InvalidInput) as error:
        load_definition(path)
    assert error.value.details[0].startswith("appel_lance.txt (ligne 1) : modèle invalide")
    assert error.value.details[1].startswith("decision_retenue.html : la variable « pilote » n'existe pas")
    assert "candidature" in error.value.details[1]
    assert error.value.details[2].startswith("inconnu.txt : aucun avis ne porte ce nom")


def test_reloading_a_programme(tmp_path: Path, db_url: str) -> None:
    from models.call import launch_call
    from models.context import install_programme
    from models.db import session_scope

    with session_scope(db_url) as session:
        assert install_programme(session, PROGRAMME, at("2015-04-01T09:00"), "test")[1] is True
        assert install_programme(session, PROGRAMME, at("2015-04-01T10:00"), "test")[1] is False  # unchanged
    with session_scope(db_url) as session:
        ctx, _ = install_programme(session, PROGRAMME, at("2015-04-01T10:00"), "test")
        launch_call(ctx, at("2015-04-02T09:00"))
    reworded = _broken(tmp_path, "title: Transitions économiques", "title: Transitions économiques (2015)")
    with session_scope(db_url) as session:
        assert install_programme(session, reworded, at("2015-04-03T09:00"), "test")[1] is True
    moved = tmp_path / "moved.yaml"
    moved.write_text(reworded.read_text(encoding="utf-8").replace(
        "deadline: 2015-05-07T12:00:00", "deadline: 2015-05-14T12:00:00"), encoding="utf-8")
    with session_scope(db_url) as session, pytest.raises(InvalidInput, match="déjà lancé : ses dates"):
        install_programme(session, moved, at("2015-04-03T09:00"), "test")
