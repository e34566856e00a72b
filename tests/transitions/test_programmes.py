"""Reading a programme's files: validation with lines, confinement, overrides, reinstalling."""

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from models.errors import InvalidInput
from models.programme import ProgrammeDefinition
from notifications.render import render_notice
from tests.conftest import PROGRAMME, at
from transitions.cli import app
from transitions.programmes import load_programme


def load_definition(path: Path) -> ProgrammeDefinition:
    return load_programme(path).definition


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
    (tmp_path / "programmes").mkdir(exist_ok=True)
    if not (tmp_path / "data").exists():
        shutil.copytree(PROGRAMME.parent.parent / "data", tmp_path / "data")
    path = tmp_path / "programmes" / "programme.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
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
    folder = tmp_path / "programmes" / "modeles"
    folder.mkdir(parents=True)
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
        ctx, _ = install_programme(session, load_programme(path), at("2015-04-01T09:00"), "test",
                                   renderer=render_notice)
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
        assert install_programme(session, load_programme(PROGRAMME), at("2015-04-01T09:00"), "test")[1] is True
        unchanged = install_programme(session, load_programme(PROGRAMME), at("2015-04-01T10:00"), "test")
        assert unchanged[1] is False
    with session_scope(db_url) as session:
        ctx, _ = install_programme(session, load_programme(PROGRAMME), at("2015-04-01T10:00"), "test",
                                   renderer=render_notice)
        launch_call(ctx, at("2015-04-02T09:00"))
    reworded = _broken(tmp_path, "title: Transitions économiques", "title: Transitions économiques (2015)")
    with session_scope(db_url) as session:
        assert install_programme(session, load_programme(reworded), at("2015-04-03T09:00"), "test")[1] is True
    moved = reworded.parent / "moved.yaml"
    moved.write_text(reworded.read_text(encoding="utf-8").replace(
        "deadline: 2015-05-07T12:00:00", "deadline: 2015-05-14T12:00:00"), encoding="utf-8")
    with session_scope(db_url) as session, pytest.raises(InvalidInput, match="déjà lancé : ses dates"):
        install_programme(session, load_programme(moved), at("2015-04-03T09:00"), "test")


def test_files_outside_the_programme_folder_are_refused(tmp_path: Path) -> None:
    outside = _broken(tmp_path, "slug: cerdd-2015", "slug: cerdd-2015\ntemplates_dir: /etc")
    with pytest.raises(InvalidInput, match="templates_dir désigne « /etc », dossier introuvable ou hors du dossier"):
        load_programme(outside)
    for target in ("../../../../../etc/passwd", "/etc/passwd", "../../../../../etc/absent"):
        escaping = _broken(tmp_path, "../data/epci-npdc-2015.csv", target)
        with pytest.raises(InvalidInput) as error:  # the same words whether the outside file exists or not
            load_programme(escaping)
        assert error.value.message.endswith("fichier introuvable ou inaccessible dans "
                                            f"{tmp_path.name}/ (un fichier ordinaire de moins de 4096 Ko).")


def test_the_register_and_the_wording_live_in_the_database(tmp_path: Path, db_url: str) -> None:
    """Once installed, the programme runs with its files gone: nothing reads a path stored in a row."""
    from models.call import launch_call
    from models.context import install_programme, load_ctx
    from models.db import session_scope
    from notifications.render import render_notice

    path = _with_templates(tmp_path, {"appel_lance.txt": (
        "{% set subject %}Ouvert : {{ programme.title }}{% endset %}Bonjour {{ destinataire.name }}.\n")})
    with session_scope(db_url) as session:
        install_programme(session, load_programme(path), at("2015-04-01T09:00"), "test")
    shutil.rmtree(tmp_path / "programmes")
    shutil.rmtree(tmp_path / "data")
    with session_scope(db_url) as session:
        ctx = load_ctx(session, renderer=render_notice)
        assert ctx.register.epci("200033579") is not None  # CU d'Arras, from the stored register
        launch_call(ctx, at("2015-04-02T09:00"))
    from sqlmodel import select

    from models.tables import Notice

    with session_scope(db_url) as session:
        assert {n.subject[:8] for n in session.exec(select(Notice))} == {"Ouvert :"}


OLD_WORDS = (("\n  deliverables:\n", "\n  tasks:\n"), ("\n  deliverable:\n    before:", "\n  task:\n    before:"),
             ("rappel_livrable, livrable_en_retard", "rappel_tache, tache_en_retard"))
"""The 2015 programme written with the words of earlier versions (« task » for a deliverable)."""


def _with_old_words(tmp_path: Path) -> Path:
    path = _broken(tmp_path, *OLD_WORDS[0])
    text = path.read_text(encoding="utf-8")
    for new, old in OLD_WORDS[1:]:
        assert new in text
        text = text.replace(new, old)
    path.write_text(text, encoding="utf-8")
    return path


def test_a_programme_file_with_the_old_words_loads_with_a_warning_in_french(tmp_path: Path) -> None:
    bundle = load_programme(_with_old_words(tmp_path))
    assert bundle.definition == load_definition(PROGRAMME)
    assert list(bundle.warnings) == [
        "Programme programme.yaml : la clé accompaniment.tasks est dépréciée : renommez-la "
        "accompaniment.deliverables (l'ancien nom sera refusé par une version future).",
        "Programme programme.yaml : la clé reminders.task est dépréciée : renommez-la reminders.deliverable "
        "(l'ancien nom sera refusé par une version future).",
        "Programme programme.yaml : reminders.digest : le type d'avis « rappel_tache » est déprécié, "
        "renommez-le « rappel_livrable ».",
        "Programme programme.yaml : reminders.digest : le type d'avis « tache_en_retard » est déprécié, "
        "renommez-le « livrable_en_retard ».",
    ]


def test_today_s_words_load_without_a_warning() -> None:
    assert load_programme(PROGRAMME).warnings == ()


def test_a_programme_file_with_both_the_old_and_the_new_key_is_refused(tmp_path: Path) -> None:
    path = _broken(tmp_path, "\n  deliverables:\n", "\n  tasks: []\n  deliverables:\n")
    with pytest.raises(InvalidInput) as error:
        load_programme(path)
    assert len(error.value.details) == 1
    assert error.value.details[0].startswith("accompaniment (ligne ")
    assert error.value.details[0].endswith(
        "« tasks » et « deliverables » ne peuvent figurer ensemble : « tasks » est l'ancien nom de "
        "« deliverables », gardez seulement « deliverables »")


def test_template_overrides_with_the_old_words_load_renamed_with_a_warning(tmp_path: Path) -> None:
    # Overrides written before migration 0013: a file named after the old kind, a figure's old name.
    reminder = "{% set subject %}Rappel : {{ livrable.title }}{% endset %}À remettre : {{ livrable.title }}\n"
    milestone = ("{% set subject %}Jalon atteint{% endset %}{{ avancement.tasks_on_time }} à l'heure "
                 "sur {{ avancement.tasks_total }}, {{ avancement.deliverables_late }} en retard\n")
    bundle = load_programme(_with_templates(tmp_path, {"rappel_tache.txt": reminder, "jalon_atteint.txt": milestone}))
    assert bundle.templates == {
        "rappel_livrable.txt": reminder,
        "jalon_atteint.txt": ("{% set subject %}Jalon atteint{% endset %}{{ avancement.deliverables_on_time }} à "
                              "l'heure sur {{ avancement.deliverables_total }}, {{ avancement.deliverables_late }} "
                              "en retard\n")}
    assert list(bundle.warnings) == [
        "Programme programme.yaml : le modèle jalon_atteint.txt cite « avancement.tasks_on_time », déprécié : "
        "écrivez « avancement.deliverables_on_time ».",
        "Programme programme.yaml : le modèle jalon_atteint.txt cite « avancement.tasks_total », déprécié : "
        "écrivez « avancement.deliverables_total ».",
        "Programme programme.yaml : le modèle rappel_tache.txt porte l'ancien nom du type d'avis « rappel_tache », "
        "renommez-le rappel_livrable.txt.",
    ]


def test_a_template_override_under_both_names_is_refused(tmp_path: Path) -> None:
    path = _with_templates(tmp_path, {"tache_en_retard.html": "<p>{{ livrable.title }}</p>",
                                      "livrable_en_retard.html": "<p>{{ livrable.title }}</p>"})
    with pytest.raises(InvalidInput) as error:
        load_programme(path)
    assert error.value.details == [
        "tache_en_retard.html et livrable_en_retard.html ne peuvent figurer ensemble : « tache_en_retard » est "
        "l'ancien nom de « livrable_en_retard », gardez seulement livrable_en_retard.html"]


def test_transitions_init_shows_the_warning(tmp_path: Path, sqlite_url: str) -> None:
    result = CliRunner().invoke(app, ["init", "--programme", str(_with_old_words(tmp_path))])
    assert result.exit_code == 0, result.output
    output = " ".join(result.output.split())
    assert "Attention : Programme programme.yaml : la clé accompaniment.tasks est dépréciée" in output
    assert output.count("Attention : ") == 4
    assert "Programme « cerdd-2015 » chargé" in output
