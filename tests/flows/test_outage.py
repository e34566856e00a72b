"""Flows through a database outage (issue 25), on PostgreSQL reached through a loopback forwarder
the test cuts and restores, with a real Prefect test server: a tick that meets the outage tries
its database work again with backoff and succeeds once the database is back; a kick-off run
triggered by a signature that fails for good on the outage is not lost: the next tick does the
work, once."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import func, select

from config.settings import reset_settings
from flows import common
from models.db import session_scope
from models.tables import AuditEntry, Notice, PilotStatus, Programme
from tests.conftest import at, ctx_of
from tests.guards import HANG_GUARD
from tests.outages import Forwarder
from transitions.runtime import replay_settings, run_tick

pytestmark = [pytest.mark.prefect, pytest.mark.parametrize("db_url", ["postgres"], indirect=True)]

ARRAS = "200033579"
FAST: list[float] = [0.2, 0.5, 1, 2, 3, 5, 5, 5]
"""Shorter waits between tries than production's (`common.DATABASE_RETRY_DELAYS`), as many."""


@pytest.fixture
def through_proxy(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Forwarder]:
    """The flows' database (DATABASE_URL) reached through a forwarder; the test's own checks go straight."""
    production = list(common.DATABASE_RETRY_DELAYS)
    common.DATABASE_RETRY_DELAYS[:] = FAST  # Prefect reads this very list: shortened in place
    database = make_url(db_url)
    try:
        with Forwarder(database.host or "127.0.0.1", database.port or 5432) as proxy:
            monkeypatch.setenv("DATABASE_URL", proxy.url(db_url))
            reset_settings()
            yield proxy
    finally:
        common.DATABASE_RETRY_DELAYS[:] = production
        reset_settings()


def _count(url: str, model: type, *where: object) -> int:
    with session_scope(url) as session:
        return int(session.exec(select(func.count()).select_from(model).where(*where)).one())


def test_a_tick_during_an_outage_succeeds_once_the_database_is_back(
        prefect_server: None, loaded: str, through_proxy: Forwarder, monkeypatch: pytest.MonkeyPatch) -> None:
    import flows.tick

    real, tries, failed = flows.tick.plan_tick, [], threading.Event()

    def plan(*args, **kwargs):  # type: ignore[no-untyped-def]
        tries.append(args[0])
        try:
            return real(*args, **kwargs)
        except Exception:
            failed.set()
            raise

    def back_after_the_first_failure() -> None:
        if failed.wait(HANG_GUARD):
            through_proxy.restore()

    monkeypatch.setattr(flows.tick, "plan_tick", plan)
    through_proxy.cut()
    restorer = threading.Thread(target=back_after_the_first_failure, name="retour-de-la-base")
    restorer.start()
    result = run_tick(at("2015-04-02T09:00"))  # the call opens
    restorer.join(HANG_GUARD)
    assert failed.is_set() and len(tries) >= 2
    assert result.changes["lancement_appel"] == 1
    with session_scope(loaded) as session:
        assert session.exec(select(Programme.state)).one() == "appel_ouvert"
    assert run_tick(at("2015-04-02T09:00")).changes["lancement_appel"] == 0  # once


def _late_signatures(url: str, when: datetime) -> None:
    """The CU d'Arras's deadline extended, its three parties sign after the planned kick-off."""
    from models.charter import extend_charter, sign_charter
    from models.pilots import find_pilot

    with session_scope(url) as session:
        ctx = ctx_of(session)
        pilot = find_pilot(ctx, ARRAS)
        extend_charter(ctx, pilot, to=at("2015-07-10T18:00"), reason="Délibération le 2 juillet",
                       at=at("2015-06-29T10:00"))
        for party in ("territoire", "cerdd", "prestataire"):
            sign_charter(ctx, pilot, party=party, signatory="Quelqu'un", at=when)


def _arras(url: str) -> str:
    from models.pilots import find_pilot

    with session_scope(url) as session:
        return str(find_pilot(ctx_of(session), ARRAS).status)


def test_a_kickoff_run_lost_to_an_outage_is_done_once_by_the_next_tick(
        prefect_server: None, selected: str, through_proxy: Forwarder) -> None:
    from flows.stages import kickoff_flow

    signed = at("2015-07-03T10:00")
    _late_signatures(selected, signed)
    through_proxy.cut()
    with replay_settings(), pytest.raises(Exception) as failure:  # what the signature's trigger runs
        kickoff_flow(as_of=signed, programme="cerdd-2015")
    assert "connection" in str(failure.value).lower()
    assert _arras(selected) == PilotStatus.CHARTER_PENDING

    through_proxy.restore()
    run_tick(at("2015-07-03T11:00"))  # the next tick reconciles: the signatures are facts since its last
    assert _arras(selected) == PilotStatus.ACTIVE
    started = (_count(selected, AuditEntry, AuditEntry.action == "pilote.lance"),
               _count(selected, Notice, Notice.kind == "lancement_accompagnement"))
    assert started[0] == 1 and started[1] >= 3

    with replay_settings():  # the trigger firing again, and another tick: nothing more
        kickoff_flow(as_of=signed, programme="cerdd-2015")
    run_tick(at("2015-07-03T11:00"))
    assert (_count(selected, AuditEntry, AuditEntry.action == "pilote.lance"),
            _count(selected, Notice, Notice.kind == "lancement_accompagnement")) == started
