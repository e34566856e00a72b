"""Dates people type in the portal's forms read as on the command line: ISO or French, a day alone
ending at 18h00 Paris time, an impossible day or an ambiguous hour refused in French (422), nothing stored."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models.db import session_scope
from models.tables import DueDateRequest
from tests.conftest import at
from tests.portal.conftest import ARRAS, consultancy, link
from tests.portal.helpers import assert_french_refusal, count, form_ending


def _ask(started: str, client_for, typed: str):  # type: ignore[no-untyped-def]  # noqa: ANN001, ANN202
    client = client_for(started)
    _, path = link(started, consultancy(), when="2015-07-01T10:00")
    form = form_ending(client.get(path).text, f"{ARRAS}/livrable/diagnostic/report")
    return client.post(form.action, data={**form.hidden, "echeance": typed, "motif": "Entretiens décalés"})


@pytest.mark.parametrize("typed", ["2015-09-15", "15/09/2015", "15 septembre 2015"])
def test_a_due_date_typed_as_a_day_ends_at_six_pm(started: str, client_for, typed: str) -> None:  # noqa: ANN001
    done = _ask(started, client_for, typed)
    assert done.status_code == 303, done.text
    with session_scope(started) as session:
        request, = session.exec(select(DueDateRequest)).all()
        assert request.requested_due == at("2015-09-15T18:00")


@pytest.mark.parametrize(("typed", "said"), [
    ("31/09/2015", "le 31 septembre 2015 n'existe pas (septembre a 30 jours)"),
    ("2015-10-25 02:30", "est ambigu à Paris"),
    ("la semaine prochaine", "n'est pas une date ISO 8601 ni une date écrite à la française"),
])
def test_an_impossible_date_is_refused_in_french(started: str, client_for, typed: str, said: str) -> None:  # noqa: ANN001
    assert_french_refusal(_ask(started, client_for, typed), 422, said)
    assert count(started, DueDateRequest) == 0
