"""Reloading a running programme (issue 26): a file that would lay the pilots' year out otherwise is
refused with a pointer to `programme diff` and `apply`, nothing stored; a file that only rewords
still loads. A file whose own layout breaks the year lists every problem at once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from models.db import session_scope
from models.errors import InvalidInput
from models.tables import AuditEntry, Programme
from tests.conftest import PROGRAMME, start_arras
from transitions.cli import app
from transitions.programmes import load_programme

runner = CliRunner()
FORMATION_2 = ("    - key: formation-2\n      title: \"Économie de services et de proximité : outils pour l'action\"\n"
               "      at: P3M\n")


def _edited(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    """A copy of the 2015 programme (with its register beside it) with each `old` replaced by `new`."""
    text = PROGRAMME.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new)
    (tmp_path / "programmes").mkdir(exist_ok=True)
    if not (tmp_path / "data").exists():
        shutil.copytree(PROGRAMME.parent.parent / "data", tmp_path / "data")
    path = tmp_path / "programmes" / "programme.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _stored(url: str) -> tuple[dict[str, object], int]:
    with session_scope(url) as session:
        programme = session.exec(select(Programme)).one()
        return programme.definition, len(session.exec(select(AuditEntry)).all())


def test_moving_a_session_of_a_running_programme_is_refused_with_the_way_to_do_it(
        selected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    start_arras(selected)
    _edited(tmp_path, (FORMATION_2, FORMATION_2.replace("at: P3M", "at: P3M7D")))
    monkeypatch.chdir(tmp_path)
    moved = Path("programmes/programme.yaml")  # as typed
    before = _stored(selected)
    result = runner.invoke(app, ["init", "--programme", str(moved), "--at", "2015-09-01T09:00"])
    output = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "chargé dans" not in output and "Traceback" not in output
    assert f"Programme {moved} non chargé : il déplace l'accompagnement des territoires pilotes en " \
           "cours du programme « cerdd-2015 » (1 changement)" in output
    assert f"« transitions programme diff {moved} »" in output  # the path as typed
    assert f"« transitions programme apply {moved} --reason \"…\" »" in output
    assert "session formation-2 : at P3M → P3M7D" in output
    assert _stored(selected) == before


def test_rewording_a_running_programme_still_loads(selected: str, tmp_path: Path) -> None:
    start_arras(selected)
    reworded = _edited(tmp_path, (FORMATION_2, FORMATION_2.replace("outils pour l'action", "des outils pour agir")))
    before, _ = _stored(selected)
    result = runner.invoke(app, ["init", "--programme", str(reworded), "--at", "2015-09-01T09:00"])
    assert result.exit_code == 0, result.output
    assert "Programme « cerdd-2015 » chargé" in " ".join(result.output.split())
    after, _ = _stored(selected)
    assert after != before and "des outils pour agir" in str(after)


def test_moving_a_session_before_any_kickoff_still_loads(selected: str, tmp_path: Path) -> None:
    moved = _edited(tmp_path, (FORMATION_2, FORMATION_2.replace("at: P3M", "at: P3M7D")))
    result = runner.invoke(app, ["init", "--programme", str(moved), "--at", "2015-06-05T09:00"])
    assert result.exit_code == 0, result.output
    assert "P3M7D" in str(_stored(selected)[0])


def test_every_layout_problem_of_a_file_is_listed_at_once(tmp_path: Path) -> None:
    path = _edited(tmp_path, ("      due: P11M15D", "      due: P13M"), ("      at: P11M15D", "      at: P12M10D"),
                   ("      start: P10M\n      end: P12M", "      start: P10M\n      end: P14M"))
    with pytest.raises(InvalidInput) as error:
        load_programme(path)
    assert error.value.message == "Programme programme.yaml refusé : le programme compte 3 problèmes."
    after = "après la fin de l'accompagnement (12 mois : le vendredi 1er juillet 2016)"
    assert [line.partition(" (ligne ")[0] for line in error.value.details] == [
        "accompaniment.phases[4].end", "accompaniment.milestones[4].at", "accompaniment.deliverables[5].due"]
    assert [line.partition(") : ")[2] for line in error.value.details] == [
        f"la phase ressources-diffusion finirait {after}", f"le jalon diffusion tomberait {after}",
        f"le livrable rapport-final serait dû {after}"]


def test_overlapping_sessions_and_a_phase_ending_before_it_starts_are_listed_together(tmp_path: Path) -> None:
    path = _edited(tmp_path, (FORMATION_2, FORMATION_2.replace("at: P3M", "at: P1M")),
                   ("      start: P2M\n      end: P5M", "      start: P2M\n      end: P1M"))
    with pytest.raises(InvalidInput) as error:
        load_programme(path)
    assert len(error.value.details) == 2
    assert error.value.details[0].startswith("accompaniment.phases[1].end (ligne ")
    assert error.value.details[0].endswith(" : la phase former-outiller finirait avant de commencer (P1M avant P2M)")
    assert error.value.details[1].startswith("accompaniment.sessions[1].at (ligne ")
    assert error.value.details[1].endswith(
        " : les sessions formation-1 et formation-2 se chevauchent au même lieu (Siège de {territoire})")


def test_init_without_mode_keeps_a_replayed_programme_replayed(selected: str) -> None:
    first = runner.invoke(app, ["init", "--mode", "rejeu", "--at", "2015-04-01T09:00"])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["init", "--at", "2015-04-02T09:00"])
    assert again.exit_code == 0, again.output
    assert "(mode rejeu)" in again.output and "Mode changé" not in again.output
    with session_scope(selected) as session:
        assert session.exec(select(Programme)).one().mode == "rejeu"
    switched = runner.invoke(app, ["init", "--mode", "direct", "--at", "2015-04-03T09:00"])
    assert switched.exit_code == 0, switched.output
    assert "Mode changé : rejeu → direct." in switched.output
    with session_scope(selected) as session:
        assert session.exec(select(Programme)).one().mode == "direct"


def test_moving_the_year_of_a_programme_whose_pilots_are_all_finished_loads(selected: str, tmp_path: Path) -> None:
    from models.tables import Pilot, PilotStatus

    start_arras(selected)
    with session_scope(selected) as session:  # the CU d'Arras's year is over
        for pilot in session.exec(select(Pilot).where(Pilot.status == PilotStatus.ACTIVE)).all():
            pilot.status = PilotStatus.FINISHED
            session.add(pilot)
    moved = _edited(tmp_path, (FORMATION_2, FORMATION_2.replace("at: P3M", "at: P3M7D")))
    result = runner.invoke(app, ["init", "--programme", str(moved), "--at", "2016-08-01T09:00"])
    assert result.exit_code == 0, result.output
    assert "P3M7D" in str(_stored(selected)[0])


PHASE_3 = "      start: P5M\n      end: P7M\n"


def test_diff_fits_80_columns_in_french_and_its_html_is_never_overwritten_unasked(
        selected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    start_arras(selected)
    moved = _edited(tmp_path, (FORMATION_2, FORMATION_2.replace("at: P3M", "at: P3M1W")),
                    (PHASE_3, PHASE_3.replace("end: P7M", "end: P8M")))
    monkeypatch.setenv("COLUMNS", "80")
    shown = runner.invoke(app, ["programme", "diff", str(moved), "--at", "2015-09-01T10:00"])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert max(len(line) for line in lines) <= 80 and "None" not in shown.output
    output = " ".join(shown.output.split())
    assert "Avant → après" in output and "--json et --html FICHIER" in output
    assert "Session formation-2 :" in output and "date 3 mois → 3 mois et" in output  # the cause in words
    assert "│ 01/02/2016 09:30 →" in shown.output and "│ 01/03/2016 09:30" in shown.output  # a phase's ends
    assert "Avis « Rappel de" in output and "session » déplacé" in output
    as_json = runner.invoke(app, ["programme", "diff", str(moved), "--at", "2015-09-01T10:00", "--json"])
    phase = [d for d in json.loads(as_json.output)["differences"] if d["type"] == "phase"]
    assert [(d["avant"], d["apres"]) for d in phase] == [("2016-02-01T08:30:00+00:00", "2016-03-01T08:30:00+00:00")]
    page = tmp_path / "diff.html"
    page.write_text("à garder", encoding="utf-8")
    refused = runner.invoke(app, ["programme", "diff", str(moved), "--at", "2015-09-01T10:00", "--html", str(page)])
    assert refused.exit_code == 2 and "--remplacer" in refused.output, refused.output
    assert page.read_text(encoding="utf-8") == "à garder"
    replaced = runner.invoke(app, ["programme", "diff", str(moved), "--at", "2015-09-01T10:00", "--html", str(page),
                                   "--remplacer"])
    assert replaced.exit_code == 0, replaced.output
    assert "Par personne" in page.read_text(encoding="utf-8")
