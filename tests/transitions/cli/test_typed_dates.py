"""Dates typed on the command line: a due date given as a day ends at 18h00 Paris time (as on the
portal), French spellings are read, impossible days and ambiguous hours refused in French (exit 2)."""

from __future__ import annotations

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from models.db import session_scope
from models.tables import Deliverable
from tests.conftest import at, start_arras
from transitions.cli import app

runner = CliRunner()
ARRAS = "200033579"


def _due(url: str) -> object:
    with session_scope(url) as session:
        return session.exec(select(Deliverable.due_at).where(Deliverable.key == "diagnostic")).one()


@pytest.mark.parametrize("typed", ["2015-09-15", "15/09/2015", "15 septembre 2015"])
def test_a_due_date_given_as_a_day_ends_at_six_pm(selected: str, typed: str) -> None:
    start_arras(selected)
    result = runner.invoke(app, ["deliverable", "postpone", ARRAS, "diagnostic", "--to", typed,
                                 "--reason", "Entretiens décalés", "--at", "02/07/2015 10h00"])
    assert result.exit_code == 0, result.output
    assert _due(selected) == at("2015-09-15T18:00")


@pytest.mark.parametrize(("typed", "said"), [
    ("2015-06-31", "--to : le 31 juin 2015 n'existe pas (juin a 30 jours)"),
    ("25/10/2015 2h30", "2015-10-25T02:30+02:00"),
    ("29/03/2015 02:30", "n'existe pas à Paris"),
])
def test_an_impossible_date_is_refused_in_french(selected: str, typed: str, said: str) -> None:
    start_arras(selected)
    before = _due(selected)
    result = runner.invoke(app, ["deliverable", "postpone", ARRAS, "diagnostic", "--to", typed,
                                 "--reason", "Entretiens décalés", "--at", "2015-07-02T10:00"])
    assert result.exit_code == 2 and said in " ".join(result.output.split())
    assert _due(selected) == before
