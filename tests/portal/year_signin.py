"""One signed-in client per role for the back office's year tests (sessions, deliverables, people),
over `tests.portal.staff_login`: the same accounts, enrolment and sign-in."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.portal.conftest import Clock
from tests.portal.staff_login import EMAILS as ROLES
from tests.portal.staff_login import NAMES, PASSWORD, sign_in
from tests.portal.staff_login import enrolled as enrol

__all__ = ["NAMES", "PASSWORD", "ROLES", "enrol", "sign_in", "team"]


def team(url: str, client_for, clock: Clock) -> dict[str, TestClient]:  # noqa: ANN001
    """One signed-in client per role (chargé·e de mission, direction, lecture)."""
    clients = {}
    for role in ("charge_de_mission", "direction", "lecture"):
        email = enrol(url, clock, role)
        clients[role] = client_for(url)
        sign_in(clients[role], url, clock, email)
    return clients
