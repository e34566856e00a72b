"""The README's walk-through, run command by command: the README stays true."""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.conftest import EXAMPLES, PROJECT_ROOT
from transitions.cli import app

pytestmark = pytest.mark.prefect


def readme_commands() -> list[list[str]]:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    lines = re.findall(r"^\$T (.+)$", text, flags=re.MULTILINE)
    return [shlex.split(line, comments=True) for line in lines]


def test_the_walk_through_runs_as_written(prefect_server: None, db_url: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    commands = readme_commands()
    assert len(commands) > 20
    runner = CliRunner()
    for args in commands:
        result = runner.invoke(app, args, env={"COLUMNS": "250"})
        assert result.exit_code == 0, (args, result.output)
    assert (tmp_path / "candidatures.csv").is_file() and (tmp_path / "accompagnement.ics").is_file()
    status = runner.invoke(app, ["status", "--at", "2015-09-01T09:00"], env={"COLUMNS": "250"}).output
    assert "CU d'Arras" in status and "en cours" in status
