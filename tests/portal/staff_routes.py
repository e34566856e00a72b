"""The back office's routes as the app declares them (every engineer's), for the tests that go over
all of them: the act each route declares (read from its dependencies), and its path filled with rows
of the database where a parameter names one."""

from __future__ import annotations

import inspect
import re
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlmodel import col, select

from models.db import session_scope
from models.staff import StaffAct
from models.tables import (
    Application,
    ApplicationFile,
    ApplicationVersion,
    Deliverable,
    DeliverableFile,
    DueDateRequest,
    Notice,
    Pilot,
    ProgrammePreview,
    ProgrammeVersion,
    TrainingSession,
)

PARAMETER = re.compile(r"\{([a-z_]+)(?::[a-z]+)?\}")
ANONYMOUS_OR_ANY = {"/equipe/connexion", "/equipe/deconnexion", "/equipe/deconnexion-partout",
                    "/equipe/mot-de-passe-oublie", "/equipe/invitation/{cle}", "/equipe/reinitialisation/{cle}"}
"""The forms posted before signing in, or by any member about their own session: the only POST
routes of the back office that may declare no act of `StaffAct` beyond reading."""


def _flat(routes: list[Any]) -> list[APIRoute]:
    """The app's routes, those of included routers too (FastAPI keeps an included router whole; the
    portal includes its routers without a prefix: their routes' paths are whole)."""
    out: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif getattr(route, "original_router", None) is not None:
            out += _flat(route.original_router.routes)
    return out


def staff_routes(app: FastAPI, method: str) -> list[APIRoute]:
    """Every route under /equipe/ answering `method`, in the order they were added."""
    return [r for r in _flat(app.routes) if r.path.startswith("/equipe/") and method in r.methods]


def declared_acts(route: APIRoute) -> set[StaffAct]:
    """The acts the route's dependencies check (`require(act)`, `staff_form(name, act)`), found in
    their closures."""
    found: set[StaffAct] = set()

    def walk(dependant: Dependant) -> None:
        call: Any = dependant.call
        if call is not None and getattr(call, "__closure__", None):
            act = inspect.getclosurevars(call).nonlocals.get("act")
            if isinstance(act, StaffAct):
                found.add(act)
        for sub in dependant.dependencies:
            walk(sub)

    walk(route.dependant)
    return found


def known_values(url: str) -> dict[str, str]:
    """Values for the path parameters the back office's pages use, from the database: the first
    pilot's SIREN, its application's receipt and first file, a session, a deliverable, a request,
    the first notice, the programme's first version and first kept preview."""
    with session_scope(url) as session:
        values: dict[str, str] = {"party": "territoire", "partie": "territoire"}
        pilot = session.exec(select(Pilot).order_by(col(Pilot.id))).first()
        application = session.exec(select(Application).order_by(col(Application.id))).first()
        if pilot is not None:
            application = session.get(Application, pilot.application_id) or application
        if application is not None:
            values |= {"siren": application.lead_siren, "receipt": application.receipt_number,
                       "recepisse": application.receipt_number}
            row = session.exec(select(ApplicationFile).join(ApplicationVersion).where(
                ApplicationVersion.application_id == application.id)).first()
            if row is not None:
                values["file_id"] = str(row.id)
        for model, names in ((TrainingSession, ("session_id",)), (Deliverable, ("deliverable_id",)),
                             (DueDateRequest, ("request_id", "number")), (Notice, ("notice_id",))):
            found = session.exec(select(model).order_by(col(model.id))).first()  # type: ignore[attr-defined]
            if found is not None:
                values |= dict.fromkeys(names, str(found.id))
                if isinstance(found, TrainingSession | Deliverable):
                    values.setdefault("key", found.key)
        version = session.exec(select(ProgrammeVersion.number).order_by(col(ProgrammeVersion.id))).first()
        if version is not None:
            values["version_number"] = str(version)
        preview = session.exec(select(ProgrammePreview.id).order_by(col(ProgrammePreview.id))).first()
        if preview is not None:
            values["preview_id"] = str(preview)
        handed = session.exec(select(DeliverableFile).order_by(col(DeliverableFile.id))).first()
        if handed is not None:  # a deliverable with a file handed in, and that file
            values |= {"deliverable_id": str(handed.deliverable_id), "handed_file_id": str(handed.id)}
    return values


def filled(path: str, values: dict[str, str]) -> str | None:
    """`path` with each parameter replaced by its value, or None when one has no value."""
    missing = [name for name in PARAMETER.findall(path) if name not in values]
    return None if missing else PARAMETER.sub(lambda m: values[m.group(1)], path)
