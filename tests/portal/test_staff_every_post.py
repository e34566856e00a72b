"""Every form of the back office, whoever added it: each POST route under /equipe/ declares an act,
and a signed-in `lecture` member posting to it gets 403 in French with nothing changed (every table's
rows counted before and after). Routes are enumerated from the app, so routes added later are covered."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlmodel import SQLModel

from models.db import session_scope
from models.staff import PERMISSIONS
from models.tables import StaffRole
from tests.portal.conftest import Clock
from tests.portal.helpers import assert_french_refusal
from tests.portal.staff_login import signed_in
from tests.portal.staff_routes import ANONYMOUS_OR_ANY, declared_acts, filled, known_values, staff_routes


def _counts(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        return {table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
                for table in SQLModel.metadata.sorted_tables}


def test_every_post_route_declares_an_act_lecture_may_not_do(started: str, client_for, clock: Clock) -> None:
    client = signed_in(client_for, started, clock, "lecture")
    routes = staff_routes(client.app, "POST")  # type: ignore[arg-type]
    undeclared = sorted(r.path for r in routes
                        if not {a for a in declared_acts(r) if StaffRole.READER not in PERMISSIONS[a]})
    assert set(undeclared) <= ANONYMOUS_OR_ANY, f"formulaires sans acte réservé : {undeclared}"
    values = known_values(started) | {"cle": "inconnue"}
    acting = [r for r in routes if r.path not in ANONYMOUS_OR_ANY]
    assert any(r.path == "/equipe/avis/{notice_id}/relancer" for r in acting)
    before = _counts(started)
    for route in acting:
        path = filled(route.path, values) or route.path.replace("{", "").replace("}", "")
        answer = client.post(path, data={"jeton": "x", "motif": "essai", "commentaire": "essai"})
        assert_french_refusal(answer, 403, "ne permet pas cette action")
    assert _counts(started) == before
