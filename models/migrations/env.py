"""Alembic environment: the engine comes from `models.db.migrate`, or (for developers running
`alembic` by hand) from DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context
from sqlmodel import SQLModel

import models.tables  # noqa: F401  (registers the tables on the metadata)
from models.db import MIGRATION_LOCK, get_engine

target_metadata = SQLModel.metadata


def run_migrations() -> None:
    engine = context.config.attributes.get("engine") or get_engine(os.environ["DATABASE_URL"])
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # two commands migrating at once: one after the other
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations()
