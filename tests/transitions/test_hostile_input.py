"""Hostile input (issue 8): bounded parsing, confined files, strict types, control characters,
bounded options, truthful failures and races. Each refusal: a French message, its exit code,
and the database unchanged."""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from sqlmodel import func, select
from typer.testing import CliRunner

from models.db import session_scope
from models.tables import Application, ApplicationFile, ApplicationVersion, AuditEntry, JuryScore, Notice
from tests.conftest import EXAMPLES, PROJECT_ROOT
from tests.guards import HANG_GUARD, join_or_fail
from tests.needs import postgres_url
from transitions.cli import app

runner = CliRunner()
ARRAS = EXAMPLES / "candidature-cu-arras.yaml"


def _state(url: str) -> tuple[int, ...]:
    with session_scope(url) as session:
        return tuple(session.exec(select(func.count()).select_from(t)).one()
                     for t in (Application, ApplicationVersion, ApplicationFile, Notice, AuditEntry, JuryScore))


def _said(result: object) -> str:
    return " ".join(result.output.split())  # type: ignore[attr-defined]


def _application(tmp_path: Path, change=None, name: str = "candidature.yaml") -> Path:  # type: ignore[no-untyped-def]
    folder = tmp_path / "depot"
    if not folder.exists():
        shutil.copytree(EXAMPLES / "pieces", folder / "pieces")
    data = yaml.safe_load(ARRAS.read_text(encoding="utf-8"))
    if change:
        change(data)
    path = folder / name
    path.write_text(json.dumps(data, ensure_ascii=False) if name.endswith(".json")
                    else yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


# -- bounded parsing: measured in a fresh process, the reading and parsing alone --------------------

# Bytes read: /proc/self/io's rchar, every byte the process read() (files, pipes, devices), a
# deterministic measure where seconds would depend on the machine's load.
_MEASURE = """
import json, resource, sys, tracemalloc
from pathlib import Path
from models.errors import InvalidInput
from transitions.userfiles import parse_document, read_text_file

def read_so_far():
    with open("/proc/self/io", encoding="ascii") as io:
        return int(next(line for line in io if line.startswith("rchar:")).split()[1])

path = Path(sys.argv[1])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
before = read_so_far()
try:
    parse_document(read_text_file(path, "de candidature"), path.name, "de candidature")
    message = None
except InvalidInput as exc:
    message = exc.message
read = read_so_far() - before
peak = tracemalloc.get_traced_memory()[1]
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base
print(json.dumps({"message": message, "read": read, "traced": peak, "rss_kb": rss}))
"""


def _bomb(tmp_path: Path) -> Path:
    levels = ["a0: &a0 [" + ", ".join(["x"] * 9) + "]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path = tmp_path / "bombe.yaml"
    path.write_text("\n".join(levels) + "\n", encoding="utf-8")
    assert path.stat().st_size < 600  # 9**9 strings once expanded
    return path


@pytest.mark.parametrize(("special", "expected"), [
    ("bomb", "les ancres YAML (&nom) ne sont pas permises"),
    ("dev_zero", "n'est pas un fichier ordinaire"),
    ("fifo", "n'est pas un fichier ordinaire"),
    ("deep", "imbriqué sur plus de 50 niveaux"),
    ("huge_int", "nombre trop grand"),
])
def test_bombs_and_endless_files_are_refused_at_once_in_little_memory(
        tmp_path: Path, special: str, expected: str) -> None:
    if special == "bomb":
        path = _bomb(tmp_path)
    elif special == "dev_zero":
        path = Path("/dev/zero")
    elif special == "fifo":
        path = tmp_path / "tube.yaml"
        os.mkfifo(path)
    elif special == "deep":
        path = tmp_path / "profond.json"
        path.write_text('{"a": ' + "[" * 2000 + "]" * 2000 + "}", encoding="utf-8")
    else:
        path = tmp_path / "entier.yaml"
        path.write_text("a: " + "9" * 5000 + "\n", encoding="utf-8")
    try:
        done = subprocess.run([sys.executable, "-c", _MEASURE, str(path)], capture_output=True, text=True,
                              timeout=HANG_GUARD, cwd=PROJECT_ROOT, env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
    except subprocess.TimeoutExpired:
        pytest.fail(f"bloqué : la lecture de {path} n'a pas fini en {HANG_GUARD:.0f} s (lue sans fin ?)", pytrace=False)
    assert done.returncode == 0, done.stderr[-2000:]
    measured = json.loads(done.stdout)
    assert measured["message"] is not None and expected in measured["message"]
    assert measured["traced"] < 100 * 1024 * 1024 and measured["rss_kb"] < 100 * 1024
    # The reading and parsing alone: the file's few bytes at most (an endless one is not read at all).
    assert measured["read"] < 64 * 1024, measured


@pytest.mark.parametrize(("text", "expected"), [
    ("juror: X\njuror: Y\nnotes: {}\n", "la clé « juror » apparaît deux fois (ligne 2"),
    ("juror: !!python/object/apply:os.getcwd []\nnotes: {}\n", "étiquettes YAML explicites"),
    ("juror: X\nnotes: {a: {<<: {b: 1}}}\n", "clés de fusion YAML (<<)"),
    ("juror: X\nnotes: {a: {b: .nan}}\n", "infinis ou indéterminés"),
])
def test_yaml_tricks_are_refused_with_their_line(tmp_path: Path, text: str, expected: str) -> None:
    from models.errors import InvalidInput
    from models.jury import ScoreSheet
    from transitions.userfiles import load_model

    path = tmp_path / "notes.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as error:
        load_model(path, ScoreSheet, "de notes")
    assert expected in error.value.message


def test_duplicate_json_keys_are_refused(tmp_path: Path) -> None:
    from models.errors import InvalidInput
    from models.jury import ScoreSheet
    from transitions.userfiles import load_model

    path = tmp_path / "notes.json"
    path.write_text('{"juror": "X", "juror": "Y", "notes": {}}', encoding="utf-8")
    with pytest.raises(InvalidInput, match="la clé « juror » apparaît deux fois"):
        load_model(path, ScoreSheet, "de notes")


# -- confined attachments -------------------------------------------------------------------------


def test_attachments_outside_the_folder_are_refused_alike_whether_they_exist_or_not(
        opened: str, tmp_path: Path) -> None:
    outside = tmp_path / "secret.pdf"
    shutil.copy(EXAMPLES / "pieces" / "formulaire-cu-arras.pdf", outside)
    path = _application(tmp_path)
    (path.parent / "lien.pdf").symlink_to(outside)
    (path.parent / "tube.pdf").parent.mkdir(exist_ok=True)
    os.mkfifo(path.parent / "tube.pdf")
    answers = {}
    for given in ("../secret.pdf", "../absent.pdf", str(outside), str(tmp_path / "absent.pdf"), "lien.pdf",
                  "tube.pdf", "/dev/zero", "pieces", "x" * 260 + ".pdf"):  # the last one: too long a name
        changed = _application(tmp_path, lambda d, g=given: d["formulaire"].__setitem__(1, {"fichier": g}))
        before = _state(opened)
        result = runner.invoke(app, ["submit", str(changed), "--at", "2015-04-20T10:00", "--no-send"])
        assert result.exit_code == 2, (given, result.output)
        assert _state(opened) == before
        answers[given] = "".join(result.output.split()).replace(given[:120], "<fichier>")
    # One message: nothing tells what exists outside.
    assert len(set(answers.values())) == 1, "\n".join(sorted(set(answers.values())))
    assert "estintrouvableouinaccessibleparmilespiècesdelacandidature" in answers["lien.pdf"]


def test_a_symbolic_link_inside_the_folder_and_an_explicit_pieces_folder_are_accepted(
        opened: str, tmp_path: Path) -> None:
    elsewhere = tmp_path / "ailleurs"
    shutil.copytree(EXAMPLES / "pieces", elsewhere / "pieces")
    path = _application(tmp_path)
    shutil.rmtree(path.parent / "pieces")
    (path.parent / "pieces").symlink_to(elsewhere / "pieces")  # leads out of the folder: refused
    refused = runner.invoke(app, ["submit", str(path), "--at", "2015-04-20T10:00", "--no-send"])
    assert refused.exit_code == 2 and "introuvable ou inaccessible" in _said(refused)
    accepted = runner.invoke(app, ["submit", str(path), "--pieces", str(elsewhere), "--at", "2015-04-20T10:00",
                                   "--no-send"])  # the attachments' folder named explicitly
    assert accepted.exit_code == 0, accepted.output
    (path.parent / "pieces").unlink()
    (path.parent / "vraies").mkdir()
    for piece in (elsewhere / "pieces").iterdir():
        shutil.copy(piece, path.parent / "vraies" / piece.name)
    (path.parent / "pieces").symlink_to(path.parent / "vraies")  # stays inside the folder: read
    again = runner.invoke(app, ["submit", str(path), "--at", "2015-04-21T10:00", "--no-send"])
    assert again.exit_code == 0 and "version 2" in again.output, again.output


def test_attachment_checks_take_bytes() -> None:
    from models.attachments import check_pieces
    from models.forms import ApplicationForm

    form = ApplicationForm.model_validate(yaml.safe_load(ARRAS.read_text(encoding="utf-8")))
    files = {item.fichier: (EXAMPLES / item.fichier).read_bytes()
             for item in [*form.formulaire, *form.documents_complementaires]}
    assert [p.kind for p in check_pieces(form, files)] == ["docx", "pdf", "pdf"]


def _zipped(kind: str, members: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        if kind == "odt":
            archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(("kind", "member", "size", "words"), [
    ("docx", "word/document.xml", 60 * 1024 * 1024, "une fois décompressé, il occuperait 60.0 Mo (limite 50.0 Mo)"),
    ("odt", "content.xml", 4 * 1024 * 1024, "« bombe de décompression » (limite 100 pour 1)"),
], ids=["60-Mo-decompresses", "taux-de-compression"])
def test_a_zip_bomb_posing_as_a_document_is_refused_unread(kind: str, member: str, size: int, words: str) -> None:
    from models.attachments import FileRefused, check_upload, zip_problem

    bomb = _zipped(kind, {member: b"\0" * size})
    assert len(bomb) < 100 * 1024
    with pytest.raises(FileRefused) as refused:
        check_upload(f"livrable.{kind}", bomb, allowed={"docx", "odt"}, field="fichier")
    assert words in refused.value.message and f"livrable.{kind}" in refused.value.message
    ordinary = _zipped(kind, {member: ("<p>Diagnostic du territoire, version 2.</p>\n" * 2000).encode()})
    assert zip_problem(ordinary) is None  # text compresses well, yet far from a bomb
    assert check_upload(f"livrable.{kind}", ordinary, allowed={"docx", "odt"}, field="fichier").kind == kind


# -- strict types, SIREN, duplicates ---------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["true", "false", "yes", "on", "0x5", "05", "'5'", "5.0", "1:0"])
def test_scores_must_be_whole_numbers(closed: str, tmp_path: Path, spelling: str) -> None:
    sheet = (EXAMPLES / "jury" / "notes-dreal.yaml").read_text(encoding="utf-8")
    first = next(line for line in sheet.splitlines() if "portage:" in line or "portage" in line and "{" in line)
    changed = sheet.replace(first, first.replace("portage: 5", f"portage: {spelling}").replace(
        "portage: 4", f"portage: {spelling}").replace("portage: 3", f"portage: {spelling}"), 1)
    assert changed != sheet
    path = tmp_path / "notes.yaml"
    path.write_text(changed, encoding="utf-8")
    before = _state(closed)
    result = runner.invoke(app, ["jury", "score", str(path), "--at", "2015-06-01T16:00"])
    assert result.exit_code == 2, result.output
    assert "doit être un nombre entier" in _said(result)
    assert _state(closed) == before


@pytest.mark.parametrize("space", ["\u00a0", "\u202f", "\u2009", " "])
def test_a_siren_pasted_with_any_space_is_normalised(space: str) -> None:
    from models.forms import check_siren

    assert check_siren(space.join(["200", "033", "579"])) == "200033579"


@pytest.mark.parametrize(("siren", "message"), [
    ("000000000", "000000000 n'existe pas"), ("２００033579", "exactement 9 chiffres"),
    ("200033579\n", "caractère de contrôle"), ("200033578", "clé de contrôle"),
])
def test_bad_sirens_are_refused(siren: str, message: str) -> None:
    from models.forms import check_siren

    with pytest.raises(ValueError, match=message):
        check_siren(siren)


def test_a_partner_listed_twice_is_merged_and_the_applicant_told(opened: str, tmp_path: Path) -> None:
    def twice(data: dict) -> None:  # type: ignore[type-arg]
        data["partenaires"].append(copy.deepcopy(data["partenaires"][0]))
        data["referents_politiques"].append(copy.deepcopy(data["referents_politiques"][0]))

    result = runner.invoke(app, ["submit", str(_application(tmp_path, twice)), "--at", "2015-04-20T10:00"])
    assert result.exit_code == 0, result.output
    assert "« Ville d'Arras » figure deux fois ; une seule fois retenu" in _said(result)
    with session_scope(opened) as session:
        version = session.exec(select(ApplicationVersion)).one()
        ack = session.exec(select(Notice).where(Notice.kind == "accuse_reception")).first()
    assert [p["nom"] for p in version.payload["partenaires"]].count("Ville d'Arras") == 1
    assert len(version.payload["referents_politiques"]) == 1
    assert ack is not None and "Ville d'Arras » figure deux fois" in ack.body_text


def test_a_partner_siren_of_zeros_is_refused(opened: str, tmp_path: Path) -> None:
    path = _application(tmp_path, lambda d: d["partenaires"][0].update(siren="000000000"))
    before = _state(opened)
    result = runner.invoke(app, ["submit", str(path), "--at", "2015-04-20T10:00"])
    assert result.exit_code == 2 and "partenaires[0].siren" in _said(result)
    assert _state(opened) == before


# -- control characters ------------------------------------------------------------------------------


@pytest.mark.parametrize("char", ["\n", "\r", "\x00", "\x1b[31m", "\x85", "\u202e", "\u2066"])
def test_single_line_fields_refuse_control_characters(opened: str, tmp_path: Path, char: str) -> None:
    path = _application(tmp_path, lambda d: d["responsables_operationnels"][0].update(nom=f"Claire{char}Dufour"),
                        name="candidature.json")
    before = _state(opened)
    result = runner.invoke(app, ["submit", str(path), "--at", "2015-04-20T10:00"])
    assert result.exit_code == 2, result.output
    assert "responsables_operationnels[0].nom" in _said(result) and "non permis" in _said(result)
    assert "\x1b" not in result.output and "\u202e" not in result.output
    assert _state(opened) == before


def test_multi_line_fields_keep_their_lines(opened: str, tmp_path: Path) -> None:
    from models.forms import ApplicationForm

    data = yaml.safe_load(ARRAS.read_text(encoding="utf-8"))
    data["motivations"] = "Première ligne.\r\n\tDeuxième ligne."
    assert ApplicationForm.model_validate(data).motivations == "Première ligne.\n\tDeuxième ligne."
    data["motivations"] = "Texte \x1b[2J effacé"
    with pytest.raises(ValueError, match="séquence d'échappement"):
        ApplicationForm.model_validate(data)


@pytest.mark.parametrize("args", [
    ["sign", "200033579", "--party", "cerdd", "--signatory", "Emmanuel\nBertin"],
    ["attend", "200033579", "formation-1", "Claire\x1b[31mDufour", "--organisation", "CU d'Arras"],
    ["attend", "200033579", "formation-1", "Claire Dufour", "--organisation", "CU\u202ed'Arras"],
    ["announce", "246201016", "--contact", "Damien\rHochart", "--email", "d.hochart@ccpl.example.org"],
])
def test_single_line_options_refuse_control_characters(opened: str, args: list[str]) -> None:
    before = _state(opened)
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "non permis" in _said(result) and "\x1b" not in result.output and "\u202e" not in result.output
    assert _state(opened) == before


def test_escape_sequences_from_input_are_never_echoed_raw(opened: str, tmp_path: Path) -> None:
    path = tmp_path / "notes.yaml"
    path.write_text("juror: \"\\e[2J\\e]0;titre\\a\"\nnotes: {\"CERDD-2015-0001\\e[0m\": {portage: 3}}\n",
                    encoding="utf-8")
    result = runner.invoke(app, ["jury", "score", str(path)])
    assert result.exit_code == 2 and "\x1b" not in result.output and "\x07" not in result.output
    unknown = runner.invoke(app, ["applications", "--show", "CERDD\x1b[31m"])
    assert unknown.exit_code == 2 and "\x1b" not in unknown.output and "U+001B" in unknown.output


# -- bounded options, exit codes ------------------------------------------------------------------------


@pytest.mark.parametrize(("args", "code", "message"), [
    (["tick", "--at", "0001-01-01T00:00"], 2, "sort des années permises (2000 à 2100)"),
    (["status", "--at", "9999-12-31T23:59:59-12:00"], 2, "sort des années permises (2000 à 2100)"),
    (["audit", "--limit", str(2**63)], 2, "Valeur invalide pour --limit : la valeur doit être au plus 1000000"),
    (["outbox", "list", "--limit", "0"], 2, "Valeur invalide pour --limit : la valeur doit être au moins 1"),
    (["outbox", "show", str(2**64)], 2, "Valeur invalide pour NOTICE_ID : la valeur doit être au plus 1000000"),
    (["outbox", "retry", "-1"], 2, "Option inconnue : -1"),
    (["applications", "--show", "CERDD-2015-9999"], 3, "Aucune candidature"),
    (["sign", "999999998", "--party", "cerdd", "--signatory", "X"], 3, "Aucun territoire pilote"),
    (["sign", "999999999", "--party", "cerdd", "--signatory", "X"], 2, "clé de contrôle fausse"),
    (["deliverables", "--pilot", "personne"], 3, "Aucun territoire pilote"),
    (["outbox", "show", "999"], 3, "Aucun avis n°999"),
    (["status", "--markdown", "x" * 300], 2, "nom de fichier trop long"),
    (["applications", "--history", "CERDD-2015-0001", "--show", "200033579"], 2, "pas les deux"),
])
def test_options_are_bounded_and_refusals_have_their_exit_code(
        opened: str, capsys: pytest.CaptureFixture[str], args: list[str], code: int, message: str) -> None:
    from transitions.cli import main

    before = _state(opened)
    with pytest.raises(SystemExit) as exit_:
        main(args)
    captured = capsys.readouterr()
    said = " ".join((captured.out + captured.err).split())
    assert exit_.value.code == code, said
    assert message in said and "Traceback" not in said
    assert _state(opened) == before


# -- truthful failures -------------------------------------------------------------------------------


def test_an_internal_error_after_the_submission_says_it_is_stored(
        opened: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import notifications.deliver

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("panne")

    monkeypatch.setattr(notifications.deliver, "deliver_due", broken)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "donnees"))
    from config.settings import reset_settings

    reset_settings()
    result = runner.invoke(app, ["submit", str(ARRAS), "--at", "2015-04-20T10:00"])
    assert result.exit_code == 70
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[0].startswith("Candidature enregistrée : récépissé CERDD-2015-0001")
    assert len(lines) == 2 and "Traceback" not in result.output  # the receipt, then one line for the error
    assert ("La candidature est enregistrée (récépissé CERDD-2015-0001, version 1), l'accusé de réception partira "
            "à la prochaine distribution") in lines[1]
    assert (tmp_path / "donnees" / "erreurs.log").read_text(encoding="utf-8").count("KeyError: 'panne'") == 1
    with session_scope(opened) as session:
        assert session.exec(select(Application)).one().receipt_number == "CERDD-2015-0001"


def test_a_temporary_prefect_server_that_does_not_start_is_explained() -> None:
    from models.errors import Unavailable
    from transitions.cli.common import exit_code, translate

    translated = translate(RuntimeError("Timed out while attempting to connect to ephemeral Prefect API server."))
    assert isinstance(translated, Unavailable) and exit_code(translated) == 5
    assert "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in translated.message


# -- races ---------------------------------------------------------------------------------------------


def _two_inits(url: str, tmp_path: Path) -> list[subprocess.CompletedProcess[str]]:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(PROJECT_ROOT), "DATA_DIR": str(tmp_path / "var"),
           "PREFECT_HOME": str(tmp_path / "prefect")}
    command = [sys.executable, "-c", "import sys; from transitions.cli import main; main(sys.argv[1:])",
               "init", "--at", "2015-04-01T09:00"]
    processes = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                                  cwd=tmp_path) for _ in range(2)]
    return [subprocess.CompletedProcess(p.args, p.wait(timeout=120), *p.communicate()) for p in processes]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_two_inits_at_once_on_a_fresh_database_both_succeed(tmp_path: Path, backend: str) -> None:
    if backend == "postgres":
        url = postgres_url()
        from models.db import dispose_engines
        from tests.conftest import _reset_postgres

        _reset_postgres(url)
        dispose_engines()
    else:
        url = f"sqlite:///{tmp_path / 'neuve.db'}"
    results = _two_inits(url, tmp_path)
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    assert sorted(r.stdout.split(" » ")[1].split()[0] for r in results) == ["chargé", "déjà"]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)  # SQLite takes one writer at a time: no race
def test_simultaneous_first_submissions_get_distinct_receipt_numbers(db_url: str, tmp_path: Path) -> None:
    from tests.conftest import open_call
    from transitions.intake import read_application, submit_form

    with session_scope(db_url) as session:
        from models.context import install_programme
        from tests.conftest import PROGRAMME, at
        from transitions.programmes import load_programme

        install_programme(session, load_programme(PROGRAMME), at("2015-04-01T09:00"), "test")
    open_call(db_url)
    names = ["candidature-cu-arras.yaml", "candidature-ca-lens-lievin-v2.yaml",
             "candidature-cc-flandre-interieure.yaml", "candidature-ca-maubeuge-val-de-sambre.yaml",
             "candidature-cc-pays-de-lumbres.yaml"]
    submissions = [read_application(EXAMPLES / name) for name in names]
    barrier = threading.Barrier(len(submissions))
    receipts: list[str] = []
    errors: list[BaseException] = []

    def submit(submission: object) -> None:
        from tests.conftest import at

        barrier.wait()
        try:
            receipts.append(submit_form(db_url, submission, at("2015-04-20T10:00"), None).receipt_number)  # type: ignore[arg-type]
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(s,)) for s in submissions]
    for thread in threads:
        thread.start()
    join_or_fail(threads, "cinq premiers dépôts simultanés")
    assert not errors, errors
    assert sorted(receipts) == [f"CERDD-2015-{n:04d}" for n in range(1, len(names) + 1)]


@pytest.mark.prefect
def test_an_internal_error_inside_a_flow_is_one_french_line(
        prefect_server: None, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capfd: pytest.CaptureFixture[str]) -> None:
    import flows.common
    from config.settings import reset_settings
    from transitions.cli import main

    assert runner.invoke(app, ["init", "--at", "2015-04-01T09:00"]).exit_code == 0

    def broken(*args: object, **kwargs: object) -> int:
        raise KeyError("panne dans une étape")

    monkeypatch.setattr(flows.common, "run_one_stage", broken)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "donnees"))
    reset_settings()
    capfd.readouterr()
    with pytest.raises(SystemExit) as exit_:
        main(["tick", "--at", "2015-04-02T09:00"])
    captured = capfd.readouterr()
    said = [line for line in (captured.out + captured.err).splitlines() if line.strip()]
    assert exit_.value.code == 70
    assert len(said) == 1 and said[0].startswith("Erreur interne inattendue (KeyError). Chaque étape terminée "
                                                 "avant l'erreur est enregistrée"), said
    assert "Traceback" not in captured.err
    assert "panne dans une étape" in (tmp_path / "donnees" / "erreurs.log").read_text(encoding="utf-8")
