"""The CLI refuses bad input with a French message and a non-zero exit, and changes nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import func, select
from typer.testing import CliRunner

from models.clock import parse_instant
from models.context import install_programme
from models.db import migrate, session_scope
from models.tables import Application, ApplicationVersion, AuditEntry, Notice
from tests.conftest import EXAMPLES, PROJECT_ROOT
from transitions.cli import app
from transitions.programmes import load_programme

runner = CliRunner()
COMMAND_ENV = {"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(PROJECT_ROOT)}
"""The installed command, running this checkout's code."""


def _state(url: str) -> tuple[int, ...]:
    with session_scope(url) as session:
        return tuple(session.exec(select(func.count()).select_from(t)).one()
                     for t in (Application, ApplicationVersion, Notice, AuditEntry))


BAD_FILES = {
    "vide.yaml": (b"", "est vide"),
    "binaire.yaml": (b"\x89PNG\r\n\x1a\n\x00\x00", "fichier binaire"),
    "latin1.yaml": ("motivations: été".encode("latin-1"), "pas encodé en UTF-8"),
    "casse.yaml": (b"collectivite_chef_de_file: [", "YAML est mal formé (ligne"),
    "liste.yaml": (b"- a\n- b\n", "ensemble de champs"),
    "casse.json": (b'{"a": ', "JSON est mal formé"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_unreadable_files_are_refused_and_nothing_is_stored(opened: str, tmp_path: Path, name: str) -> None:
    content, expected = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    before = _state(opened)
    result = runner.invoke(app, ["submit", str(path), "--at", "2015-04-20T10:00"])
    assert result.exit_code == 2
    assert expected in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert _state(opened) == before


def test_every_form_problem_is_reported_at_once_with_its_path(opened: str, tmp_path: Path) -> None:
    text = (EXAMPLES / "candidature-cu-arras.yaml").read_text(encoding="utf-8")
    text = text.replace('siren: "200033579"', 'siren: "200033578"').replace(
        "courriel: claire.dufour@cu-arras.example.org", "courriel: claire.dufour-at-cu-arras").replace(
        "point_contact_cerdd: Antoine Boutonné\n", "couleur: verte\n")
    path = tmp_path / "candidature.yaml"
    path.write_text(text, encoding="utf-8")
    before = _state(opened)
    result = runner.invoke(app, ["submit", str(path), "--at", "2015-04-20T10:00"])
    assert result.exit_code == 2, result.output
    output = " ".join(result.output.split())
    assert "4 problème(s)" in output
    assert "collectivite_chef_de_file.siren (ligne 6)" in output and "clé de contrôle" in output
    assert "responsables_operationnels[0].courriel (ligne 13) : adresse électronique invalide : il manque le @" \
        in output
    assert "point_contact_cerdd" in output and "champ obligatoire manquant" in output
    assert "couleur" in output and "champ inconnu" in output
    assert _state(opened) == before


def test_a_late_submission_states_the_deadline(opened: str) -> None:
    result = runner.invoke(app, ["submit", str(EXAMPLES / "candidature-cu-arras.yaml"), "--at", "2015-05-07T12:00:00"])
    assert result.exit_code == 4
    assert "la date limite était le jeudi 7 mai 2015 à 12h00" in " ".join(result.output.split())


def test_a_valid_submission_prints_its_receipt(opened: str) -> None:
    result = runner.invoke(app, ["submit", str(EXAMPLES / "candidature-cu-arras.yaml"), "--at", "2015-05-07T11:59:59"])
    assert result.exit_code == 0, result.output
    assert "récépissé CERDD-2015-0001, version 1" in result.output
    assert "Accusé de réception envoyé." in result.output
    with session_scope(opened) as session:
        acks = session.exec(select(Notice).where(Notice.kind == "accuse_reception")).all()
    assert len(acks) == 3 and all(n.status == "envoye" for n in acks)  # Arras: 2 operational leads + 1 elected


def test_bad_instant_is_refused(opened: str) -> None:
    result = runner.invoke(app, ["tick", "--at", "le 7 mai"])
    assert result.exit_code == 2
    assert "n'est pas une date ISO 8601" in " ".join(result.output.split())


def test_nothing_loaded_is_explained(sqlite_url: str) -> None:
    for args in (["submit", str(EXAMPLES / "candidature-cu-arras.yaml")], ["tick", "--at", "2015-04-02"],
                 ["status"], ["tasks"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 3, (args, result.output)
        assert "transitions init" in " ".join(result.output.split())


@pytest.mark.parametrize(("env", "code", "message"), [
    ({"NOTICE_CHANNEL": "fax"}, 2, "NOTICE_CHANNEL : valeur non autorisée (attendu : 'file', 'smtp' ou 'webhook')"),
    ({"DATABASE_URL": "n'importe quoi"}, 2, "DATABASE_URL n'est pas une adresse de base de données valide"),
    ({"DATABASE_URL": "postgresql+psycopg://personne@127.0.0.1:1/x"}, 5, "La base de données est injoignable"),
])
def test_environment_problems_are_explained(tmp_path: Path, env: dict[str, str], code: int, message: str) -> None:
    base = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", **COMMAND_ENV,
            "PREFECT_HOME": str(tmp_path / "prefect"), "COLUMNS": "200"}
    done = subprocess.run([str(Path(sys.executable).parent / "transitions"), "status"], capture_output=True,
                          text=True, env=base | env, timeout=120)
    assert done.returncode == code, done.stderr
    assert message in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr + done.stdout


def test_the_installed_command_shows_no_traceback(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", **COMMAND_ENV}
    done = subprocess.run([str(Path(sys.executable).parent / "transitions"), "submit", str(tmp_path / "absent.yaml")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    assert "n'existe pas" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_wrong_types_are_named(opened: str, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(EXAMPLES / "pieces", tmp_path / "pieces")
    text = (EXAMPLES / "candidature-cu-arras.yaml").read_text(encoding="utf-8")
    text = text.replace("themes: [mobilite, habitat, alimentation]", "themes: velo").replace(
        'telephone: "03 21 21 87 00"', "telephone: 12")
    path = tmp_path / "candidature.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["submit", str(path), "--at", "2015-04-20T10:00"])
    output = " ".join(result.output.split())
    assert result.exit_code == 2
    assert "themes (ligne" in output and "doit être une liste" in output
    assert "collectivite_chef_de_file.telephone" in output and "doit être du texte" in output


def test_markup_and_formulas_from_applicants_stay_inert_in_reports(opened: str, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(EXAMPLES / "pieces", tmp_path / "pieces")
    text = (EXAMPLES / "candidature-cu-arras.yaml").read_text(encoding="utf-8")
    text = text.replace("  nom: CU d'Arras", "  nom: \"=HYPERLINK(1) [red]rouge[/red] <b>\"")
    path = tmp_path / "candidature.yaml"
    path.write_text(text, encoding="utf-8")
    assert runner.invoke(app, ["submit", str(path), "--at", "2015-04-20T10:00"]).exit_code == 0
    listing = runner.invoke(app, ["applications", "--csv", str(tmp_path / "export.csv")],
                            env={"COLUMNS": "250"})  # wide enough for the name to show whole
    assert "[red]rouge[/red]" in " ".join(listing.output.split())
    exported = (tmp_path / "export.csv").read_text(encoding="utf-8-sig")
    assert ";'=HYPERLINK(1) [red]rouge[/red] <b>;" in exported


def test_an_oversized_file_is_refused_before_reading(opened: str, tmp_path: Path) -> None:
    path = tmp_path / "enorme.yaml"
    path.write_bytes(b"motivations: " + b"x" * (3 * 1024 * 1024))
    result = runner.invoke(app, ["submit", str(path), "--at", "2015-04-20T10:00"])
    assert result.exit_code == 2
    assert "trop volumineux" in " ".join(result.output.split())


def test_two_programmes_live_side_by_side(loaded: str, tmp_path: Path) -> None:
    from tests.conftest import PROGRAMME

    text = PROGRAMME.read_text(encoding="utf-8").replace("slug: cerdd-2015", "slug: cerdd-2016")
    import re

    text = re.sub(r"\b2016-(\d\d-\d\dT)", r"2017-\1", text)
    text = re.sub(r"\b2015-(\d\d-\d\dT)", r"2016-\1", text)
    import shutil

    shutil.copytree(PROGRAMME.parent.parent / "data", tmp_path / "data")
    (tmp_path / "programmes").mkdir()
    path = tmp_path / "programmes" / "cerdd-2016.yaml"
    path.write_text(text, encoding="utf-8")
    assert runner.invoke(app, ["init", "--programme", str(path)]).exit_code == 0
    ambiguous = runner.invoke(app, ["submit", str(EXAMPLES / "candidature-cu-arras.yaml"), "--at", "2016-04-20T10:00"])
    assert ambiguous.exit_code == 2
    assert "Plusieurs programmes sont chargés (cerdd-2015, cerdd-2016) : précisez --programme" in " ".join(
        ambiguous.output.split())
    from models.call import launch_call
    from models.context import load_ctx
    from notifications.render import render_notice
    from tests.conftest import at

    with session_scope(loaded) as session:
        launch_call(load_ctx(session, "cerdd-2016", renderer=render_notice), at("2016-04-02T09:00"))
    done = runner.invoke(app, ["submit", str(EXAMPLES / "candidature-cu-arras.yaml"), "--at", "2016-04-20T10:00",
                               "--programme", "cerdd-2016"])
    assert done.exit_code == 0, done.output
    assert "récépissé CERDD-2016-0001" in done.output


def test_outbox_shows_and_filters_what_was_sent(opened: str, tmp_path: Path) -> None:
    assert runner.invoke(app, ["submit", str(EXAMPLES / "candidature-cu-arras.yaml"), "--at", "2015-04-20T10:00"]
                         ).exit_code == 0
    listing = runner.invoke(app, ["outbox", "list", "--kind", "accuse_reception", "--to",
                                  "Claire.Dufour@cu-arras.example.org"], env={"COLUMNS": "250"})
    assert listing.exit_code == 0 and listing.output.count("accuse_reception") == 1
    with session_scope(opened) as session:
        notice = session.exec(select(Notice).where(Notice.recipient_email == "claire.dufour@cu-arras.example.org")
                              ).one()
    shown = runner.invoke(app, ["outbox", "show", str(notice.id), "--html", str(tmp_path / "avis.html")],
                          env={"COLUMNS": "250"})
    assert shown.exit_code == 0
    assert "Objet : Accusé de réception CERDD-2015-0001 (version 1)" in shown.output
    assert "Numéro de récépissé : CERDD-2015-0001" in shown.output
    assert (tmp_path / "avis.html").read_text(encoding="utf-8") == notice.body_html
    assert runner.invoke(app, ["outbox", "show", "9999"]).exit_code == 3
    content = runner.invoke(app, ["applications", "--show", "200033579"], env={"COLUMNS": "250"})
    assert content.exit_code == 0
    assert "Point contact technique du Cerdd : Antoine Boutonné" in content.output
    assert "Thèmes : mobilité, habitat/habiter, alimentation" in content.output


@pytest.mark.parametrize(("args", "message"), [
    (["submitt", "x"], "Commande inconnue « submitt ». Vouliez-vous dire « submit » ?"),
    (["submit"], "Argument obligatoire manquant : FILE."),
    (["tick", "--att", "x"], "Option inconnue : --att. Vouliez-vous dire --at ?"),
    (["sign", "200033579", "--signatory", "X"], "Option obligatoire manquante : --party."),
    (["outbox", "show", "abc"], "Valeur invalide pour NOTICE_ID : un nombre entier est attendu."),
    (["jury", "ranking", "en-trop"], "Argument(s) en trop : « en-trop »."),
])
def test_usage_errors_are_french(tmp_path: Path, args: list[str], message: str) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", **COMMAND_ENV,
           "PREFECT_HOME": str(tmp_path / "prefect"), "COLUMNS": "200"}
    done = subprocess.run([str(Path(sys.executable).parent / "transitions"), *args], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 2
    assert message in done.stderr and "Aide : transitions" in done.stderr
    assert "Traceback" not in done.stderr


def test_help_is_french(tmp_path: Path) -> None:
    done = subprocess.run([str(Path(sys.executable).parent / "transitions"), "tick", "--help"], capture_output=True,
                          text=True, env={**COMMAND_ENV, "COLUMNS": "200",
                                          "PREFECT_HOME": str(tmp_path)}, timeout=120)
    assert done.returncode == 0
    assert "Affiche cette aide et quitte." in done.stdout and "Show this message" not in done.stdout


@pytest.mark.parametrize(("args", "code"), [
    (["calendar", "--out", "/nonexistent/dossier/agenda.ics"], 2),
    (["status", "--markdown", "/nonexistent/dossier/bilan.md"], 2),
    (["jury", "dossier", "--out", "/nonexistent/dossier/jury.md"], 2),
    (["applications", "--csv", "/nonexistent/dossier/c.csv"], 2),
    (["applications", "--history", "CERDD-2015-9999"], 3),
    (["applications", "--show", "123456782"], 3),
    (["applications", "--show", "123456789"], 2),  # a SIREN with a wrong key is said malformed
    (["announce", "200033579", "--contact", " ", "--email", "a@example.org", "--at", "2015-04-10"], 2),
    (["attend", "200033579", "formation-1", "X", "--organisation", "Y"], 3),
    (["deliverable", "200033579", "methode"], 3),
    (["tasks", "--pilot", "nobody"], 3),
    (["sign", "200033579", "--party", "cerdd", "--signatory", " "], 2),
    (["init", "--programme", "/nonexistent.yaml"], 2),
    (["outbox", "retry", "1", "--at", "2015-04-03"], 4),
    (["demo", "--out", "/proc/transitions-demo"], 2),
])
def test_bad_operator_input_never_shows_a_traceback(opened: str, args: list[str], code: int) -> None:
    from models.db import session_scope as scope

    with scope(opened) as session:  # one notice already sent, for the retry case
        notice = session.exec(select(Notice)).first()
        assert notice is not None
        notice.status = "envoye"
        session.add(notice)
    before = _state(opened)
    result = runner.invoke(app, args)
    assert result.exit_code == code, (args, result.output)
    assert result.output.startswith("Erreur :"), result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert _state(opened) == before


def test_outbox_retry_then_deliver(opened: str, tmp_path: Path) -> None:
    with session_scope(opened) as session:
        notice = session.exec(select(Notice)).first()
        assert notice is not None
        notice.status, notice.attempts, notice.last_error = "abandonne", 6, "550 boîte inconnue"
        session.add(notice)
        notice_id = notice.id
    listing = runner.invoke(app, ["outbox", "list", "--status", "abandonne"], env={"COLUMNS": "250"})
    assert listing.exit_code == 0 and "550 boîte inconnue" in listing.output
    retried = runner.invoke(app, ["outbox", "retry", str(notice_id), "--at", "2015-04-03T09:00"])
    assert retried.exit_code == 0 and f"Avis n°{notice_id} remis en envoi" in retried.output
    delivered = runner.invoke(app, ["outbox", "deliver", "--at", "2015-04-03T09:00"])
    assert delivered.exit_code == 0 and "3 avis envoyé(s), 0 échec(s)" in delivered.output
    with session_scope(opened) as session:
        assert {n.status for n in session.exec(select(Notice))} == {"envoye"}
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 3


def test_outbox_kind_still_takes_the_old_names_with_a_warning(opened: str) -> None:
    # « rappel_tache » and « tache_en_retard » were renamed (migration 0013): a scheduled
    # `outbox retry --all --kind rappel_tache` written before keeps working, and says so.
    with session_scope(opened) as session:
        notice = session.exec(select(Notice)).first()
        assert notice is not None
        notice.kind, notice.status = "rappel_livrable", "abandonne"
        session.add(notice)
        notice_id = notice.id
    listed = runner.invoke(app, ["outbox", "list", "--kind", "rappel_tache", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [row["numero"] for row in json.loads(listed.stdout)] == [notice_id]
    assert listed.stderr == ("Attention : --kind : le type d'avis « rappel_tache » est déprécié, utilisez "
                             "« rappel_livrable » (l'ancien nom sera refusé par une version future).\n")
    other = runner.invoke(app, ["outbox", "retry", "--all", "--kind", "tache_en_retard", "--at", "2015-04-03T09:00"])
    assert other.exit_code == 0 and "Aucun avis abandonné" in other.stdout
    assert "« tache_en_retard » est déprécié, utilisez « livrable_en_retard »" in other.stderr
    retried = runner.invoke(app, ["outbox", "retry", "--all", "--kind", "rappel_tache", "--at", "2015-04-03T09:00"])
    assert retried.exit_code == 0 and "1 avis abandonné(s) remis en envoi." in retried.stdout
    with session_scope(opened) as session:
        back = session.get(Notice, notice_id)
        assert back is not None and back.status == "en_attente"
    unknown = runner.invoke(app, ["outbox", "list", "--kind", "rappel_machin"])
    assert unknown.exit_code == 2 and "Type d'avis inconnu « rappel_machin »" in unknown.output


def test_an_unknown_outbox_status_is_refused_with_the_four_statuses(opened: str) -> None:
    result = runner.invoke(app, ["outbox", "list", "--status", "perdu"], env={"COLUMNS": "250"})
    assert result.exit_code == 2
    assert "Statut inconnu « perdu » (statuts : en_attente, envoye, abandonne, expire)." in result.output


def _command_paths(command: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    subs = getattr(command, "commands", {})
    found = [prefix]
    for name, sub in subs.items():
        found += _command_paths(sub, (*prefix, name))
    return found


def test_every_help_names_types_in_french(capsys: pytest.CaptureFixture[str]) -> None:
    """No « <str> », « <int> », « <path> », « <bool> » (nor TEXT, INTEGER) in any command's help."""
    import re

    import typer

    from transitions.cli import app
    from transitions.cli.french import run

    english = re.compile(r"<(?:str|int|float|path|bool|datetime)\b|\b(?:TEXT|INTEGER|FLOAT|PATH|BOOLEAN)\b|range>")
    paths = _command_paths(typer.main.get_command(app))
    assert len(paths) > 30
    for path in paths:
        assert run(app, [*path, "--help"]) == 0
        shown = capsys.readouterr().out
        assert "Usage: transitions" in shown and not english.search(shown), (path, english.findall(shown))
    run(app, ["outbox", "list", "--help"])
    assert "<entier borné>" in capsys.readouterr().out


def test_prefect_background_queues_do_not_print_english_at_exit(tmp_path: Path) -> None:
    # « EventsWorker - Still processing items: 21 items remaining... » was printed after a tick on a
    # temporary server; the CLI's logging configuration silences those queues, not our flows' loggers.
    probe = ("import logging, os\n"
             "from config.prefect_env import configure_prefect\n"
             "configure_prefect()\n"
             "from prefect.logging.configuration import setup_logging\n"
             "setup_logging()\n"
             "for name in ('EventsWorker', 'APILogWorker', 'prefect.flow_runs', 'prefect.task_runs'):\n"
             "    print(name, logging.getLogger(name).isEnabledFor(logging.WARNING))\n")
    env = {**COMMAND_ENV, "HOME": str(tmp_path), "TRANSITIONS_DATA_DIR": str(tmp_path / "var")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=tmp_path,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    enabled = dict(line.split() for line in done.stdout.splitlines())
    assert enabled == {"EventsWorker": "False", "APILogWorker": "False",
                       "prefect.flow_runs": "True", "prefect.task_runs": "True"}, done.stdout


def test_status_loads_only_what_it_shows(tmp_path: Path) -> None:
    """`transitions status` starts cold in every shell: it reads the database and prints, without
    Prefect, Typer's help renderer, icalendar, Jinja or any country's holiday module."""
    url = f"sqlite:///{tmp_path / 'x.db'}"
    migrate(url)
    with session_scope(url) as session:
        install_programme(session, load_programme(PROJECT_ROOT / "programmes" / "cerdd-2015.yaml"),
                          parse_instant("2015-04-01T09:00"), "test")
    heavy = ("prefect", "typer.rich_utils", "icalendar", "jinja2", "openpyxl", "holidays.countries.")
    code = ("import atexit, sys\n"
            f"atexit.register(lambda: print(sorted(m for m in sys.modules if m.startswith({heavy!r}))))\n"
            "from transitions.cli import main\n"
            "sys.argv = ['transitions', 'status', '--at', '2015-04-20T10:00']\n"
            "main()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**COMMAND_ENV, "DATABASE_URL": url, "PREFECT_HOME": str(tmp_path / "prefect"),
                               "OUTBOX_DIR": str(tmp_path / "outbox")})
    assert done.returncode == 0, done.stderr
    assert "cerdd-2015" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_init_records_who_ran_it_like_every_other_command(sqlite_url: str) -> None:
    """Issue 25: `init` recorded « cli » where `programme apply` and the others record `cli_actor()`
    (« cli:root »), so the journal named one person two ways."""
    from transitions.cli.common import cli_actor

    assert runner.invoke(app, ["init"]).exit_code == 0
    with session_scope(sqlite_url) as session:
        actors = set(session.exec(select(AuditEntry.actor)).all())
    assert actors == {cli_actor()} and cli_actor().startswith("cli:")
