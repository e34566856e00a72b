"""Shared fixtures: quiet isolated Prefect, a fresh database per test (SQLite, and PostgreSQL
when TEST_DATABASE_URL is set), the 2015 programme loaded at a chosen instant."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

_PREFECT_HOME = tempfile.mkdtemp(prefix="transitions-prefect-")
os.environ.pop("PREFECT_API_URL", None)
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.setdefault("PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE", "500")

from config.prefect_env import configure_prefect  # noqa: E402
from config.settings import SOURCE_ROOT, reset_settings  # noqa: E402

configure_prefect()

from sqlalchemy import text  # noqa: E402
from sqlmodel import Session  # noqa: E402

from models.clock import parse_instant  # noqa: E402
from models.context import ProgrammeContext, install_programme, load_ctx  # noqa: E402
from models.db import dispose_engines, get_engine, migrate, session_scope  # noqa: E402
from notifications.render import portal_linker, render_notice  # noqa: E402
from tests.needs import postgres_url, pytest_terminal_summary  # noqa: E402, F401 (the hook: the skip summary)
from transitions.programmes import load_programme  # noqa: E402

PROJECT_ROOT = SOURCE_ROOT
PROGRAMME = PROJECT_ROOT / "programmes" / "cerdd-2015.yaml"
EXAMPLES = PROJECT_ROOT / "examples"


def at(text_value: str) -> datetime:
    """An instant written in Paris time, as users write it."""
    return parse_instant(text_value)


def _reset_postgres(url: str) -> None:
    with get_engine(url).begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))


def _use_database(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the settings at `url` (outbox in tmp_path), migrate it, and clean up afterwards."""
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path / "outbox"))
    reset_settings()
    migrate(url)
    yield url
    dispose_engines()
    reset_settings()


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated, empty database; the same test runs on SQLite and on PostgreSQL."""
    if request.param == "postgres":
        url = postgres_url()
        _reset_postgres(url)
    else:
        url = f"sqlite:///{tmp_path / 'transitions.db'}"
    yield from _use_database(url, tmp_path, monkeypatch)


@pytest.fixture
def sqlite_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'transitions.db'}"
    yield from _use_database(url, tmp_path, monkeypatch)


@pytest.fixture
def loaded(db_url: str) -> str:
    """The 2015 programme installed, nothing else happened yet."""
    with session_scope(db_url) as session:
        install_programme(session, load_programme(PROGRAMME), at("2015-04-01T09:00"), "test")
    return db_url


LAUNCH = at("2015-04-02T09:00")
TERRITORIES = ("candidature-cu-arras.yaml", "candidature-ca-lens-lievin-v2.yaml",
               "candidature-cc-flandre-interieure.yaml")
JURY_SHEETS = ("notes-dreal.yaml", "notes-region.yaml", "notes-cerdd.yaml")


def open_call(url: str) -> None:
    """The call opens on 2 April 2015 (three notices queued, one per Cerdd contact)."""
    from models.call import launch_call

    with session_scope(url) as session:
        launch_call(ctx_of(session), LAUNCH)


def close_call_with_territories(url: str) -> None:
    """Three EPCI apply, the call closes: three admissible applications, the jury convened."""
    from models.call import close_call
    from transitions.intake import read_application, submit_form

    open_call(url)
    for name in TERRITORIES:
        submit_form(url, read_application(EXAMPLES / name), at("2015-04-20T10:00"), None)
    with session_scope(url) as session:
        close_call(ctx_of(session), at("2015-05-07T12:00"))


def score(url: str, *sheets: str) -> None:
    """Record the example jurors' sheets (examples/jury/)."""
    from models import jury
    from transitions.userfiles import load_model

    for name in sheets:
        sheet, _ = load_model(EXAMPLES / "jury" / name, jury.ScoreSheet, "de notes")
        with session_scope(url) as session:
            jury.record_sheet(ctx_of(session), sheet, at("2015-06-01T10:00"))


def select_three_pilots(url: str) -> None:
    """The call closed, all three jurors scored, the jury met: three pilots await their charter."""
    from flows.plain import run_one_stage
    from models.decision import DecisionForm, decide_from_form
    from models.schedule import STAGES

    close_call_with_territories(url)
    score(url, *JURY_SHEETS)
    for stage in STAGES:
        run_one_stage(stage.name, at("2015-06-04T14:00"))
    with session_scope(url) as session:  # the jury's secretary confirms the proposal
        decide_from_form(ctx_of(session), DecisionForm(secretaire="Emmanuel Bertin"), at("2015-06-04T14:00"))


def start_arras(url: str) -> None:
    """All three parties sign the CU d'Arras's charter; the accompaniment starts on 1 July 2015 at
    9:30 (every stage run then: its sessions and deliverables exist)."""
    from flows.plain import run_one_stage
    from models.charter import sign_charter
    from models.pilots import find_pilot
    from models.schedule import STAGES

    with session_scope(url) as session:
        ctx = ctx_of(session)
        pilot = find_pilot(ctx, "200033579")
        for party in ("territoire", "cerdd", "prestataire"):
            sign_charter(ctx, pilot, party=party, signatory="Quelqu'un", at=at("2015-06-20T10:00"))
    for stage in STAGES:
        run_one_stage(stage.name, at("2015-07-01T09:30"))


@pytest.fixture
def opened(loaded: str) -> str:
    open_call(loaded)
    return loaded


@pytest.fixture
def closed(loaded: str) -> str:
    close_call_with_territories(loaded)
    return loaded


@pytest.fixture
def selected(loaded: str) -> str:
    select_three_pilots(loaded)
    return loaded


def ctx_of(session: Session) -> ProgrammeContext:
    """The only programme, able to queue notices."""
    return load_ctx(session, renderer=render_notice, linker=portal_linker())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test on the Prefect test server is marked `prefect`, whether or not its module says so
    (`pytest -m "not prefect"` leaves the server unstarted)."""
    for item in items:
        if "prefect_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.prefect)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[None]:
    """One real Prefect test server for the whole session (started only by tests that need it)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
