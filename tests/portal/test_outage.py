"""The database out of reach, told as an outage (issue 25): a real portal (uvicorn) on PostgreSQL
through a loopback forwarder the test cuts and restores. Every page (public, personal link,
`/equipe/`) answers 503 in French with `Retry-After`; a form posted meanwhile records nothing and
works once the database is back; the log holds one line when the outage starts and one when it
ends, and no traceback. Backends terminated by the server (`pg_terminate_backend`, as a restart
does) cost no page an error. A full disk: the same 503 page (the disk's path is for the log, not
for visitors), one log line naming the disk and the folder."""

from __future__ import annotations

import html
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import select

from config.settings import get_settings
from models.db import dispose_engines, session_scope
from models.tables import CharterSignature, DeliverableFile
from tests.guards import HANG_GUARD, wait_for
from tests.outages import Forwarder, fill_database
from tests.portal.conftest import ARRAS, Clock, consultancy, link, territory
from tests.portal.helpers import PDF, count, form_ending, sign_form
from tests.portal.staff_login import enrolled, sign_in

ON_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)

OUTAGE_STARTS = "base de données injoignable"
OUTAGE_ENDS = "base de données de nouveau joignable"


def _pages(url: str, clock: Clock) -> tuple[str, str]:
    email = enrolled(url, clock, "direction")
    _, path = link(url, territory())
    return email, path


def _signatures(url: str) -> int:
    with session_scope(url) as session:
        return len(session.exec(select(CharterSignature)).all())


def _refused(answer: httpx.Response) -> None:
    assert answer.status_code == 503, answer.text
    assert answer.headers["retry-after"] == "120"
    page = html.unescape(answer.text)
    assert "Le service est momentanément indisponible, réessayez dans quelques minutes." in page
    assert '<html lang="fr">' in page and "Traceback" not in page and "DATABASE_URL" not in page


@ON_POSTGRESQL
def test_a_database_cut_off_answers_503_and_logs_one_line_when_it_starts_and_one_when_it_ends(
        selected: str, serve: Any, clock: Clock, capfd: pytest.CaptureFixture[str]) -> None:
    email, territory_page = _pages(selected, clock)
    database = make_url(selected)
    with Forwarder(database.host or "127.0.0.1", database.port or 5432) as proxy:
        base = serve(proxy.url(selected))
        with httpx.Client(base_url=base, timeout=HANG_GUARD) as client:
            sign_in(client, selected, clock, email)  # type: ignore[arg-type]
            pages = ["/appel/cerdd-2015", territory_page, "/equipe/"]
            assert [client.get(page).status_code for page in pages] == [200, 200, 200]
            form = sign_form(client.get(territory_page).text)

            proxy.cut()
            for _ in range(3):
                for page in pages:
                    _refused(client.get(page))
            posted = client.post(territory_page + "/charte", data=form)
            _refused(posted)
            assert "Rien n'a été enregistré de ce que vous venez d'envoyer" in html.unescape(posted.text)
            assert _signatures(selected) == 0  # straight to the database: nothing half-written

            proxy.restore()
            wait_for(lambda: client.get(pages[0]).status_code == 200, "le portail ne revient pas")
            assert [client.get(page).status_code for page in pages] == [200, 200, 200]
            done = client.post(territory_page + "/charte", data=form)  # the same form, its token unspent
            assert done.status_code == 303, done.text
            assert _signatures(selected) == 1

    log = Path(get_settings().error_log).read_text(encoding="utf-8")
    assert log.count(OUTAGE_STARTS) == 1 and log.count(OUTAGE_ENDS) == 1, log
    assert "Traceback" not in log
    assert "Traceback" not in capfd.readouterr().err


@ON_POSTGRESQL
def test_backends_terminated_by_the_server_cost_no_page_an_error(selected: str, serve: Any, clock: Clock) -> None:
    _, territory_page = _pages(selected, clock)
    base = serve(selected)
    database = make_url(selected).database
    with httpx.Client(base_url=base, timeout=HANG_GUARD) as client:
        assert client.get(territory_page).status_code == 200
        killer = create_engine(selected, poolclass=NullPool)  # a connection of its own, outside the portal's pool
        with killer.connect() as connection:  # every other backend of this test's database
            killed = connection.execute(text(
                "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "  # each gone before it returns
                "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": database}).scalar_one()
        killer.dispose()
        assert killed >= 1
        assert [client.get(territory_page).status_code for _ in range(3)] == [200, 200, 200]
    log = Path(get_settings().error_log)
    assert not log.exists() or OUTAGE_STARTS not in log.read_text(encoding="utf-8")


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_full_disk_answers_503_and_names_the_disk_in_the_log_only(
        started: str, client_for: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    client = client_for(started)
    _, path = link(started, consultancy(), when="2015-07-01T10:00")
    form = form_ending(client.get(path).text, f"/prestataire/{ARRAS}/livrable/methode/remise")
    fill_database(started)
    big = PDF + b"%" + b"0" * 200_000 + b"\n%%EOF\n"  # needs new pages: the file may not grow
    with caplog.at_level(logging.ERROR, logger="transitions.portail"):
        for _ in range(2):
            answer = client.post(form.action, data=form.hidden,
                                 files={"fichier": ("methode.pdf", big, "application/pdf")})
            _refused(answer)
            assert str(tmp_path) not in answer.text
    told = [r.getMessage() for r in caplog.records if r.name == "transitions.portail"]
    assert len(told) == 1 and told[0].startswith(f"Le disque qui porte {tmp_path} est plein"), told
    assert not any(r.exc_info for r in caplog.records)
    dispose_engines()
    assert count(started, DeliverableFile) == 0
