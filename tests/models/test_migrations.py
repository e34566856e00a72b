"""The schema comes from the migrations, and the migrations match the models."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import models.tables  # noqa: F401
from models.db import MIGRATIONS_DIR, get_engine


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
