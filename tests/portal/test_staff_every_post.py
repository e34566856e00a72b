"""Every form of the back office, whoever added it: each POST route under /equipe/ declares an act,
and a signed-in member whose role does not allow it (`lecture` for every act; a chargé·e de mission
for direction's: the selection, a withdrawal) gets 403 in French with nothing changed (every table's
rows counted before and after); so does a page that only opens such an act (the withdrawal's
confirmation). Routes are enumerated from the app, so routes added later are covered."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from models.db import session_scope
from models.staff import PERMISSIONS, StaffAct
from models.tables import StaffRole
from tests.portal.conftest import Clock
from tests.portal.helpers import assert_french_refusal
from tests.portal.staff_login import signed_in
from tests.portal.staff_routes import ANONYMOUS_OR_ANY, declared_acts, filled, known_values, staff_routes

EXPECTED = {StaffRole.READER: "/equipe/avis/{notice_id}/relancer",
            StaffRole.PROJECT_OFFICER: "/equipe/pilotes/{siren}/retrait"}
"""One route each role must be refused, so that the test cannot pass on an empty list."""


def _counts(url: str) -> dict[str, int]:
    with session_scope(url) as session:
        return {table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
                for table in SQLModel.metadata.sorted_tables}


def _forbidden_to(role: StaffRole, acts: set[StaffAct]) -> bool:
    return any(role not in PERMISSIONS[act] for act in acts)


def test_every_post_route_declares_an_act_lecture_may_not_do(started: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    client = signed_in(client_for, started, clock, "lecture")
    routes = staff_routes(client.app, "POST")  # type: ignore[arg-type]
    undeclared = sorted(r.path for r in routes
                        if not {a for a in declared_acts(r) if StaffRole.READER not in PERMISSIONS[a]})
    assert set(undeclared) <= ANONYMOUS_OR_ANY, f"formulaires sans acte réservé : {undeclared}"


@pytest.mark.parametrize("role", [StaffRole.READER, StaffRole.PROJECT_OFFICER])
def test_a_role_without_the_act_is_refused_every_such_route(started: str, client_for, clock: Clock,  # noqa: ANN001
                                                            role: StaffRole) -> None:
    client = signed_in(client_for, started, clock, role.value)
    values = known_values(started) | {"cle": "inconnue"}
    refused = [(method, r) for method in ("POST", "GET") for r in staff_routes(client.app, method)  # type: ignore[arg-type]
               if r.path not in ANONYMOUS_OR_ANY and _forbidden_to(role, declared_acts(r))]
    assert EXPECTED[role] in {r.path for method, r in refused if method == "POST"}
    before = _counts(started)
    for method, route in refused:
        path = filled(route.path, values) or route.path.replace("{", "").replace("}", "")
        answer = (client.post(path, data={"jeton": "x", "motif": "essai", "commentaire": "essai", "confirme": "oui"})
                  if method == "POST" else client.get(path))
        assert_french_refusal(answer, 403, "ne permet pas cette action")
    assert _counts(started) == before
