"""pilot changes: a row per change to the rows a pilot's year is read from, written by triggers

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 23:00:00

The territory's page keeps each pilot's year read in its process (`models.read.pilot_year.YearCache`)
and checks it against one indexed aggregate of these rows instead of reading the year again. The
rows are written by the database (a trigger per table, for every INSERT, UPDATE and DELETE): no
write path, ORM, bulk statement, migration or manual fix, can change a year without it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED: dict[str, str] = {
    # table -> the pilots a row of it belongs to, as a SELECT of `p` over the row `{row}` (NEW or OLD)
    "pilot": "SELECT {row}.id AS p",
    "application": "SELECT id AS p FROM pilot WHERE application_id = {row}.id",
    "chartersignature": "SELECT {row}.pilot_id AS p",
    "chartertext": "SELECT {row}.pilot_id AS p",
    "pilotphase": "SELECT {row}.pilot_id AS p",
    "milestone": "SELECT {row}.pilot_id AS p",
    "trainingsession": "SELECT {row}.pilot_id AS p",
    "deliverable": "SELECT {row}.pilot_id AS p",
    "sessionanswer": "SELECT pilot_id AS p FROM trainingsession WHERE id = {row}.session_id",
    "attendance": "SELECT pilot_id AS p FROM trainingsession WHERE id = {row}.session_id",
}
"""The tables `models.read.pilot_year.read_year` reads a year from."""

_RANDOM = {"postgresql": "floor(random() * 2147483647)::integer", "sqlite": "abs(random() % 2147483647)"}


def _insert(dialect: str, pilots: str) -> str:
    return (f"INSERT INTO pilot_change (pilot_id, token) SELECT changed.p, {_RANDOM[dialect]} "
            f"FROM ({pilots}) AS changed WHERE changed.p IS NOT NULL")


def _create_postgresql(table: str, pilots: str) -> list[str]:
    old, new = pilots.format(row="OLD"), pilots.format(row="NEW")
    return [
        f"""CREATE FUNCTION pilot_change_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_insert("postgresql", new)};
    ELSIF TG_OP = 'DELETE' THEN
        {_insert("postgresql", old)};
    ELSE
        {_insert("postgresql", f"{old} UNION {new}")};
    END IF;
    RETURN NULL;
END $$""",
        f"CREATE TRIGGER pilot_change_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION pilot_change_{table}()",
    ]


def _create_sqlite(table: str, pilots: str) -> list[str]:
    old, new = pilots.format(row="OLD"), pilots.format(row="NEW")
    rows = {"insert": new, "delete": old, "update": f"{old} UNION {new}"}
    return [f"CREATE TRIGGER pilot_change_{table}_{event} AFTER {event.upper()} ON {table} FOR EACH ROW "
            f"BEGIN {_insert('sqlite', selected)}; END" for event, selected in rows.items()]


def upgrade() -> None:
    op.create_table('pilot_change',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('pilot_id', sa.Integer(), nullable=False),
                    sa.Column('token', sa.Integer(), nullable=False),
                    sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_pilot_change_pilot_token', 'pilot_change', ['pilot_id', 'token'], unique=False)
    dialect = op.get_bind().dialect.name
    create = _create_postgresql if dialect == "postgresql" else _create_sqlite
    for table, pilots in WATCHED.items():
        for statement in create(table, pilots):
            op.execute(statement)
    # the years as they stand: one row per pilot, so a year read before any change has a stamp
    op.execute(_insert(dialect, "SELECT id AS p FROM pilot"))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in WATCHED:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS pilot_change_{table} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS pilot_change_{table}()")
        else:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS pilot_change_{table}_{event}")
    op.drop_index('ix_pilot_change_pilot_token', table_name='pilot_change')
    op.drop_table('pilot_change')
