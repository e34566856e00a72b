"""The database's own record of changes to pilots' years (`PilotChange`): the triggers that add a row
for every row inserted, updated or deleted in the tables a pilot's year is read from, whatever
writes it (the product, a bulk statement, a manual fix in psql), and for every pilot when one of
those tables is emptied by TRUNCATE (PostgreSQL). `models.read.pilot_year.YearCache` checks a kept
year against them.

`ensure` creates the triggers that are missing and stamps every pilot once; `models.db.migrate` runs
it after every upgrade, because a later migration may drop them without saying so: on SQLite,
Alembic's batch mode (this project's) alters a table by copying it, and the copy has no triggers.
Stamping every pilot makes whatever a migration changed read again. On SQLite a `REPLACE` conflict
deletes the replaced row without its delete trigger unless `recursive_triggers` is on: `get_engine`
turns it on for every connection (a manual fix through another client should not use REPLACE on
these tables).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

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
"""The tables `models.read.pilot_year.read_year` reads a year from, and how a row names its pilot."""

_RANDOM = {"postgresql": "floor(random() * 2147483647)::integer", "sqlite": "abs(random() % 2147483647)"}
EVERY_PILOT = "SELECT id AS p FROM pilot"


def insert(dialect: str, pilots: str) -> str:
    """The statement adding one change with a random token for each pilot `pilots` selects (as `p`)."""
    return (f"INSERT INTO pilot_change (pilot_id, token) SELECT changed.p, {_RANDOM[dialect]} "
            f"FROM ({pilots}) AS changed WHERE changed.p IS NOT NULL")


def _postgresql(table: str, pilots: str) -> list[str]:
    old, new = pilots.format(row="OLD"), pilots.format(row="NEW")
    return [
        f"""CREATE OR REPLACE FUNCTION pilot_change_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {insert("postgresql", new)};
    ELSIF TG_OP = 'DELETE' THEN
        {insert("postgresql", old)};
    ELSE
        {insert("postgresql", f"{old} UNION {new}")};
    END IF;
    RETURN NULL;
END $$""",
        f"CREATE OR REPLACE TRIGGER pilot_change_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION pilot_change_{table}()",
        f"CREATE OR REPLACE TRIGGER pilot_change_truncate_{table} AFTER TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION pilot_change_truncated()",
    ]


def _sqlite(table: str, pilots: str) -> list[str]:
    old, new = pilots.format(row="OLD"), pilots.format(row="NEW")
    rows = {"insert": new, "delete": old, "update": f"{old} UNION {new}"}
    return [f"CREATE TRIGGER IF NOT EXISTS pilot_change_{table}_{event} AFTER {event.upper()} ON {table} "
            f"FOR EACH ROW BEGIN {insert('sqlite', selected)}; END" for event, selected in rows.items()]


def create_statements(dialect: str) -> list[str]:
    """Every trigger (and PostgreSQL function), created or replaced: running them twice changes nothing."""
    if dialect == "postgresql":
        every = [f"""CREATE OR REPLACE FUNCTION pilot_change_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {insert("postgresql", EVERY_PILOT)};
    RETURN NULL;
END $$"""]
        return every + [statement for table, pilots in WATCHED.items() for statement in _postgresql(table, pilots)]
    return [statement for table, pilots in WATCHED.items() for statement in _sqlite(table, pilots)]


def drop_statements(dialect: str) -> list[str]:
    """Every trigger and function `create_statements` makes, dropped."""
    if dialect == "postgresql":
        return [*(f"DROP TRIGGER IF EXISTS pilot_change_{table} ON {table}" for table in WATCHED),
                *(f"DROP TRIGGER IF EXISTS pilot_change_truncate_{table} ON {table}" for table in WATCHED),
                *(f"DROP FUNCTION IF EXISTS pilot_change_{table}()" for table in WATCHED),
                "DROP FUNCTION IF EXISTS pilot_change_truncated()"]
    return [f"DROP TRIGGER IF EXISTS pilot_change_{table}_{event}" for table in WATCHED
            for event in ("insert", "update", "delete")]


def ensure(connection: Connection) -> None:
    """The triggers made where missing (or replaced), and one change stamped for every pilot, in the
    caller's transaction (`models.db.migrate`, after every upgrade; migration 0026)."""
    dialect = connection.dialect.name
    for statement in create_statements(dialect):
        connection.execute(text(statement))
    connection.execute(text(insert(dialect, EVERY_PILOT)))


def installed(connection: Connection) -> dict[str, int]:
    """Per watched table, how many of these triggers it has (PostgreSQL: row and TRUNCATE; SQLite:
    insert, update and delete)."""
    if connection.dialect.name == "postgresql":
        rows = connection.execute(text(
            "SELECT c.relname, count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE 'pilot_change%' AND NOT t.tgisinternal GROUP BY c.relname")).all()
    else:
        rows = connection.execute(text(
            "SELECT tbl_name, count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'pilot_change%' "
            "GROUP BY tbl_name")).all()
    found = {str(name): int(count) for name, count in rows}
    return {table: found.get(table, 0) for table in WATCHED}
