"""The schema comes from the migrations, and the migrations match the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel, select

from flows.plain import run_one_stage
from models import charter, pilots
from models.db import MIGRATIONS_DIR, get_engine, session_scope
from models.schedule import STAGES
from models.tables import Notice, Programme
from tests.conftest import at, ctx_of, select_three_pilots


def test_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = get_engine(db_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_migrations_go_down_and_up_again(db_url: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = get_engine(db_url)
    command.downgrade(config, "base")
    assert set(inspect(get_engine(db_url)).get_table_names()) <= {"alembic_version"}
    command.upgrade(config, "head")
    assert "notice" in inspect(get_engine(db_url)).get_table_names()


def test_one_engine_per_url_and_plain_postgresql_urls_use_psycopg() -> None:
    from models.db import dispose_engines

    url = "postgresql://someone@127.0.0.1:1/nothing"
    assert get_engine(url) is get_engine(url)
    assert get_engine(url).dialect.driver == "psycopg"
    dispose_engines()


def test_a_deliverable_reminder_queued_before_0013_is_not_queued_again_after(loaded: str) -> None:
    """Migration 0013 renames the kinds rappel_tache and tache_en_retard: a reminder queued under
    the old word (the database taken down to 0012 rewrites it so) is found again by its key once
    upgraded, and the next tick at the same instant queues nothing more."""
    def tick(instant: str) -> None:
        for stage in STAGES:
            run_one_stage(stage.name, at(instant))

    def stored() -> list[tuple[str, str]]:
        with session_scope(loaded) as session:
            return sorted((kind, key) for kind, key in session.exec(select(Notice.kind, Notice.dedup_key)).all())

    select_three_pilots(loaded)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        for party in ("territoire", "cerdd", "prestataire"):
            charter.sign_charter(ctx, pilots.find_pilot(ctx, "200033579"), party=party, signatory="X",
                                 at=at("2015-06-10T10:00"))
    tick("2015-07-01T09:30")
    tick("2015-07-29T09:00")
    before = stored()
    reminders = [key for kind, key in before if kind == "rappel_livrable"]
    assert reminders and all(key.startswith("rappel_livrable:livrable-") for key in reminders)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = get_engine(loaded)
    command.downgrade(config, "0012")
    old = stored()
    assert [key for kind, key in old if kind == "rappel_tache"] == sorted(
        "rappel_tache:" + key.removeprefix("rappel_livrable:") for key in reminders)
    assert not [kind for kind, _ in old if kind in ("rappel_livrable", "livrable_en_retard")]
    with session_scope(loaded) as session:
        definition = session.exec(select(Programme.definition)).one()  # the column alone: the model is newer than 0012
    assert "tasks" in definition["accompaniment"] and "deliverables" not in definition["accompaniment"]
    assert "task" in definition["reminders"] and "rappel_tache" in definition["reminders"]["digest"]

    command.upgrade(config, "head")
    assert stored() == before
    with session_scope(loaded) as session:
        definition = session.exec(select(Programme.definition)).one()  # the column alone: the model is newer than 0012
    assert "deliverables" in definition["accompaniment"] and "deliverable" in definition["reminders"]
    tick("2015-07-29T09:00")
    assert stored() == before
