"""Multiply a national programme built by `bench.national.build`: the same end state as a build
of `factor` times as many pilots, made with set-based SQL instead of the product's functions.

A build of 10,000 pilots through the product's functions takes well over the benchmark's budget
(submissions alone: more than 10 minutes). `multiply(url, factor)` takes a small build (say 100
pilots, `build(url, 100, capacity=10_000)`) and copies every territory `factor - 1` times: one
`INSERT … SELECT` per table, in the metadata's dependency order. Copy `c` of a row is the base
row with

- its id offset by `c` times the table's largest id, and every foreign key likewise (a key to a
  row that is not copied, the programme or the register, is kept);
- the territory renamed to the EPCI it stands for in a build of `factor * pilots` pilots: pilot
  `j` of the base becomes the EPCI numbered `c * pilots + j` (name « CC du Territoire NNNNN »,
  its valid SIREN, its e-mail domain), an application below the threshold the next free number
  from `capacity` on; its receipt number is offset by `c` times the number of base applications,
  its rank by `c` times the largest base rank (and « rang R. » in texts with it);
- every text and JSON column rewritten with those substitutions (notices' bodies, subjects,
  calendars and deduplication keys, application payloads, audit summaries and details), the ids
  a deduplication key or a calendar UID embeds (`pilote-N`, `session-N`, `livrable-N`) offset,
  and the SHA-256 of the charter each signature recorded recomputed from the renamed charter
  text (the frozen text renamed too), each signature's audit entry id offset as its entry's;
  Message-IDs made unique (a digest shared by copies, the Cerdd's and the consultancy's, stays one digest);
- programme-wide rows (the programme, its register, jury submissions, the notices and audit
  entries about the whole call) kept once, as the base build wrote them: their texts count the
  base's applications (« 125 candidature(s) examinée(s) »).

Every table SQLModel knows must have a rule below (`RULES`): a new table is refused, loudly, until
someone says how to copy it. Tables a national build leaves empty and whose copy needs more than
the generic rewrite (intentions, portal grants and form uses) are refused when not empty.

Audit entries copied keep their base's hashes and take numbers in the chain past the base's
(`seq` offset like ids): the chain of a multiplied programme does not verify, and is not meant to.

Instants are the base's: copies were « submitted » at the same seconds as their base rows. The
programme's `audit_seen` follows the newest audit entry when it did in the base (no fact since the
last tick), so the next tick is planned from the stored `next_due_at` as it would be after a build.
On PostgreSQL the id sequences are moved past the copies and the tables analysed.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import JSON, Connection, Integer, String, Table, TypeDecorator, text  # noqa: E402
from sqlmodel import Session, SQLModel  # noqa: E402

import models.tables  # noqa: E402,F401  (registers every table in SQLModel.metadata)
from bench.national import epci_name, epci_siren  # noqa: E402
from models.db import get_engine  # noqa: E402

Kind = Literal["keep", "self", "via", "organisation", "notice", "audit", "empty"]


@dataclass(frozen=True)
class Rule:
    """How a table is multiplied: `keep` (programme-wide, once), `self` (the application),
    `via` (owned by the row its `column` points to), `organisation` (territories copied, the
    Cerdd and the consultancy kept), `notice` / `audit` (owned by what their key or entity names,
    programme-wide ones kept), `empty` (refused unless empty)."""

    kind: Kind
    column: str = ""


RULES: dict[str, Rule] = {
    "registersnapshot": Rule("keep"),
    "programme": Rule("keep"),
    "organisation": Rule("organisation"),
    "contact": Rule("via", "organisation_id"),
    "application": Rule("self"),
    "applicationversion": Rule("via", "application_id"),
    "applicationfile": Rule("via", "version_id"),
    "intent": Rule("empty"),
    "juryscore": Rule("via", "application_id"),
    "pilot": Rule("via", "application_id"),
    "chartersignature": Rule("via", "pilot_id"),
    "chartertext": Rule("via", "pilot_id"),
    "pilotphase": Rule("via", "pilot_id"),
    "milestone": Rule("via", "pilot_id"),
    "trainingsession": Rule("via", "pilot_id"),
    "attendance": Rule("via", "session_id"),
    "deliverable": Rule("via", "pilot_id"),
    "notice": Rule("notice"),
    "auditentry": Rule("audit"),
    "portalgrant": Rule("empty"),
    "portalformuse": Rule("empty"),
    "sessionanswer": Rule("via", "session_id"),
    "conflictofinterest": Rule("via", "application_id"),
    "jurysubmission": Rule("keep"),
    "deliverablefile": Rule("via", "deliverable_id"),
    "duedaterequest": Rule("via", "deliverable_id"),
    "planned_event": Rule("keep"),  # programme-wide instants: the copies share their dates
    "jurynotapplicable": Rule("via", "application_id"),
    # Issue 22's doors and issue 23's accounts: a national build applies by file and signs no one in.
    "applicationdraft": Rule("empty"),
    "draftfile": Rule("empty"),
    "mailmessage": Rule("empty"),
    "partnerconfirmation": Rule("empty"),
    "staff_member": Rule("empty"),
    "staff_token": Rule("empty"),
    "staff_recovery_code": Rule("empty"),
    "staff_session": Rule("empty"),
    "staff_signin_failure": Rule("empty"),
    "service_lease": Rule("empty"),  # issue 25: who runs `transitions serve` on this database
    "programme_version": Rule("keep"),  # issue 26: the definitions the programme ran under
    "programme_preview": Rule("empty"),  # issue 26: a preview is made against the programme as it is
    "pilot_change": Rule("keep"),  # issue 25: written by the database's triggers as the copies are inserted
}

KEY_REFS = {"pilote": "pilot", "session": "trainingsession", "livrable": "deliverable"}
"""The ids a notice's deduplication key may embed (`kind:pilote-N:…`), and their tables."""

AUDIT_ENTITIES = {"application": "application", "pilot": "pilot", "training_session": "trainingsession",
                  "deliverable": "deliverable"}
"""Audit entities owned by a territory (the others, `programme`, are programme-wide)."""

NEVER = "\x01"
"""A substitution source that never occurs: REPLACE(x, NEVER, …) leaves x as it is."""


class Refused(RuntimeError):
    """The database is not a national build this module knows how to multiply."""


@dataclass
class Multiplied:
    """What `multiply` made: pilots and applications after, rows inserted, seconds taken."""

    pilots: int
    applications: int
    rows: int
    seconds: float


@dataclass(frozen=True)
class _Owned:
    row_id: int
    application_id: int
    ref_word: str = ""
    ref_id: int = 0
    ref_table: str = ""


def _json_text(dialect: str, expression: str) -> str:
    return f"CAST({expression} AS TEXT)" if dialect == "postgresql" else expression


def _json_value(dialect: str, expression: str) -> str:
    return f"CAST({expression} AS JSON)" if dialect == "postgresql" else expression


def _rewrite(expression: str) -> str:
    """The identity substitutions of one copy (columns of `scale_map m`) applied to a text."""
    for old, new in (("old_sha", "new_sha"), ("old_receipt", "new_receipt"), ("old_name", "new_name"),
                     ("old_siren", "new_siren"), ("old_domain", "new_domain"), ("old_rank", "new_rank")):
        expression = f"REPLACE({expression}, m.{old}, m.{new})"
    return expression


def check_rules(tables: Iterable[Table]) -> None:
    """Raise `Refused` for a table without a rule (a new table must be handled, not skipped)."""
    missing = [table.name for table in tables if table.name not in RULES]
    if missing:
        raise Refused(f"no multiplication rule for table(s) {', '.join(missing)}: add one to bench/multiply.py RULES")


def multiply(url: str, factor: int, *, verbose: bool = False) -> Multiplied:
    """Copy every territory of the national programme in `url` `factor - 1` times (so `factor`
    times the pilots and applications), in one transaction. Raises `Refused` when a table has no
    rule, a table that must be empty is not, the database holds anything but one national build
    (`bench.national`), or the programme's capacity or register is too small for the copies."""
    if factor < 1:
        raise ValueError("factor must be ≥ 1")
    started = time.perf_counter()

    def say(line: str) -> None:
        if verbose:
            print(f"  [{time.perf_counter() - started:6.1f} s] {line}", file=sys.stderr, flush=True)

    tables = list(SQLModel.metadata.sorted_tables)
    check_rules(tables)
    engine = get_engine(url)
    charters = _charters(url)
    inserted = 0
    with engine.begin() as connection:
        dialect = connection.dialect.name
        for table in tables:
            if RULES[table.name].kind == "empty":
                count = connection.execute(text(f"SELECT count(*) FROM {table.name}")).scalar_one()
                if count:
                    raise Refused(f"table {table.name} has {count} row(s): bench/multiply.py does not copy it")
        plan = _plan(connection, factor, charters)
        if factor == 1:
            return Multiplied(plan.pilots, plan.applications, 0, time.perf_counter() - started)
        spans = {table.name: int(connection.execute(text(f"SELECT coalesce(max(id), 0) FROM {table.name}"))
                                 .scalar_one())
                 for table in tables if RULES[table.name].kind not in ("keep", "empty")}
        owners = _owners(connection, tables, plan.applications_ids)
        _load_temp(connection, plan, owners, spans)
        say(f"planned: {factor - 1} copies of {plan.applications} applications")
        for table in tables:
            rule = RULES[table.name]
            if rule.kind in ("keep", "empty"):
                continue
            done = connection.exec_driver_sql(_insert(table, dialect, spans)).rowcount
            inserted += done
            say(f"{table.name}: {done} rows")
        connection.execute(text("DROP TABLE scale_map"))
        connection.execute(text("DROP TABLE scale_owner"))
        newest = connection.execute(text("SELECT max(id) FROM auditentry")).scalar_one()
        if plan.audit_seen is not None and plan.audit_seen == plan.audit_max:
            connection.execute(text("UPDATE programme SET audit_seen = :newest"), {"newest": newest})
        if dialect == "postgresql":
            for name in spans:
                connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                        f"(SELECT max(id) FROM {name}))"))
    if dialect == "postgresql":
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    elif dialect == "sqlite":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    say(f"{inserted} rows inserted")
    return Multiplied(plan.pilots * factor, plan.applications * factor, inserted, time.perf_counter() - started)


@dataclass
class _Plan:
    pilots: int
    applications: int
    applications_ids: set[int]
    audit_seen: int | None
    audit_max: int
    rows: list[dict[str, Any]]


def _charters(url: str) -> dict[int, tuple[str, str]]:
    """Each pilot's application id → (charter text, its SHA-256), by the product's functions."""
    from sqlmodel import select

    from models.charter import charter_text
    from models.context import load_ctx
    from models.tables import Pilot

    found: dict[int, tuple[str, str]] = {}
    with Session(get_engine(url)) as session:
        if session.exec(select(Pilot)).first() is None:
            return found
        ctx = load_ctx(session)
        for pilot in session.exec(select(Pilot)).all():
            words = charter_text(ctx, pilot)
            found[pilot.application_id] = (words, hashlib.sha256(words.encode("utf-8")).hexdigest())
    return found


def _plan(connection: Connection, factor: int, charters: dict[int, tuple[str, str]]) -> _Plan:
    """The identity substitutions of every copy of every application (rows of `scale_map`)."""
    programmes = connection.execute(text("SELECT id, slug, definition, audit_seen, register_sha256 FROM programme")
                                    ).all()
    if len(programmes) != 1:
        raise Refused(f"{len(programmes)} programmes: a national build has exactly one")
    programme = programmes[0]
    definition = programme.definition if isinstance(programme.definition, dict) else json.loads(programme.definition)
    capacity = int(definition["jury"]["pilots"]["max"])
    register = connection.execute(text("SELECT content FROM registersnapshot WHERE sha256 = :sha"),
                                  {"sha": programme.register_sha256}).scalar_one()
    registered = len(register.strip().splitlines()) - 1
    applications = connection.execute(text(
        "SELECT a.id, a.lead_siren, a.lead_name, a.receipt_number, p.rank FROM application a "
        "LEFT JOIN pilot p ON p.application_id = a.id ORDER BY a.id")).all()
    numbers: dict[int, int] = {}
    for row in applications:
        number = int(row.lead_siren[:8]) - 20_000_000
        if row.lead_siren != epci_siren(number) or row.lead_name != epci_name(number):
            raise Refused(f"application {row.receipt_number} ({row.lead_name}) is not a national build's EPCI")
        numbers[row.id] = number
    pilots = sorted(number for number in numbers.values() if number < capacity)
    others = sorted(number for number in numbers.values() if number >= capacity)
    if pilots != list(range(len(pilots))) or others != list(range(capacity, capacity + len(others))):
        raise Refused("the territories are not numbered as bench/national.py numbers them")
    if factor * len(pilots) > capacity or capacity + factor * len(others) > registered:
        raise Refused(f"programme sized for {capacity} pilots and {registered} EPCI: too small for "
                      f"{factor} x {len(pilots)} pilots and {len(others)} other applications")
    slug = str(programme.slug).upper()
    top_rank = max((row.rank for row in applications if row.rank is not None), default=0)
    rows: list[dict[str, Any]] = []
    for copy in range(1, factor):
        for row in applications:
            number = numbers[row.id]
            new = copy * len(pilots) + number if number < capacity else number + copy * len(others)
            receipt = int(row.receipt_number.rsplit("-", 1)[1]) + copy * len(applications)
            substitutions = {
                "old_name": epci_name(number), "new_name": epci_name(new),
                "old_siren": epci_siren(number), "new_siren": epci_siren(new),
                "old_domain": f"territoire-{number:05d}.example.org", "new_domain": f"territoire-{new:05d}.example.org",
                "old_receipt": row.receipt_number, "new_receipt": f"{slug}-{receipt:04d}",
            }
            if row.rank is not None:
                substitutions |= {"old_rank": f"rang {row.rank}.", "new_rank": f"rang {row.rank + copy * top_rank}.",
                                  "rank_shift": copy * top_rank}
            else:
                substitutions |= {"old_rank": NEVER, "new_rank": NEVER, "rank_shift": 0}
            if row.id in charters:
                words, sha = charters[row.id]
                for key in ("name", "siren", "domain", "receipt"):
                    words = words.replace(substitutions[f"old_{key}"], substitutions[f"new_{key}"])
                substitutions |= {"old_sha": sha, "new_sha": hashlib.sha256(words.encode("utf-8")).hexdigest()}
            else:
                substitutions |= {"old_sha": NEVER, "new_sha": NEVER}
            rows.append({"copy_no": copy, "application_id": row.id, **substitutions})
    audit_max = int(connection.execute(text("SELECT coalesce(max(id), 0) FROM auditentry")).scalar_one())
    return _Plan(len(pilots), len(applications), set(numbers), programme.audit_seen, audit_max, rows)


NOTICE_KEY = re.compile(r"^[a-z_]+:(?:(?P<word>pilote|session|livrable)-(?P<id>\d+)|(?P<receipt>[A-Z0-9_-]+-\d{4,})"
                        r"|(?P<programme>[a-z0-9-]+)):")


def _owners(connection: Connection, tables: list[Table], applications: set[int]) -> dict[str, list[_Owned]]:
    """For each copied table, its rows and the application that owns each (with the id a
    notice's key embeds); programme-wide rows are left out (kept once)."""
    owner_of: dict[str, dict[int, int]] = {"application": {i: i for i in applications}}
    found: dict[str, list[_Owned]] = {"application": [_Owned(i, i) for i in sorted(applications)]}
    receipts: dict[str, int] = dict(connection.execute(text("SELECT receipt_number, id FROM application"))
                                    .tuples().all())
    slug = connection.execute(text("SELECT slug FROM programme")).scalar_one()
    # notices and audit entries name pilots, sessions and deliverables: owned after them
    for table in sorted(tables, key=lambda t: RULES[t.name].kind in ("notice", "audit")):
        rule = RULES[table.name]
        rows: list[_Owned] = []
        if rule.kind == "organisation":
            lead: dict[int, int] = dict(connection.execute(text("SELECT organisation_id, id FROM application"))
                                        .tuples().all())
            for row_id, kind in connection.execute(text("SELECT id, kind FROM organisation")).tuples():
                if row_id in lead:
                    rows.append(_Owned(row_id, lead[row_id]))
                elif kind == "epci":
                    raise Refused(f"organisation {row_id}: an EPCI without application, not a national build's")
        elif rule.kind == "via":
            parent = next(iter(table.columns[rule.column].foreign_keys)).column.table.name
            for row_id, parent_id in connection.execute(text(f"SELECT id, {rule.column} FROM {table.name}")).tuples():
                if parent_id not in owner_of[parent]:
                    raise Refused(f"{table.name} {row_id} belongs to a {parent} that is not copied")
                rows.append(_Owned(row_id, owner_of[parent][parent_id]))
        elif rule.kind == "notice":
            for row_id, key in connection.execute(text("SELECT id, dedup_key FROM notice")).tuples():
                match = NOTICE_KEY.match(key)
                if match is None:
                    raise Refused(f"notice {row_id}: key {key!r} names no territory nor the programme")
                if match["word"]:
                    target = KEY_REFS[match["word"]]
                    ref = int(match["id"])
                    rows.append(_Owned(row_id, owner_of[target][ref], f":{match['word']}-", ref, target))
                elif match["receipt"]:
                    if match["receipt"] not in receipts:
                        raise Refused(f"notice {row_id}: key {key!r} names an unknown application")
                    rows.append(_Owned(row_id, receipts[match["receipt"]]))
                elif match["programme"] != slug:
                    raise Refused(f"notice {row_id}: key {key!r} names no territory nor the programme")
        elif rule.kind == "audit":
            for row_id, entity, entity_id in connection.execute(
                    text("SELECT id, entity, entity_id FROM auditentry")).tuples():
                if entity == "programme":
                    continue
                if entity not in AUDIT_ENTITIES or entity_id is None:
                    raise Refused(f"audit entry {row_id} ({entity} {entity_id}): no rule to copy it")
                rows.append(_Owned(row_id, owner_of[AUDIT_ENTITIES[entity]][entity_id]))
        else:
            continue
        if rule.kind != "self":
            found[table.name] = rows
            owner_of[table.name] = {row.row_id: row.application_id for row in rows}
    return found


def _load_temp(connection: Connection, plan: _Plan, owners: dict[str, list[_Owned]], spans: dict[str, int]) -> None:
    connection.execute(text(
        "CREATE TEMPORARY TABLE scale_map (copy_no INTEGER NOT NULL, application_id INTEGER NOT NULL, "
        "old_name TEXT NOT NULL, new_name TEXT NOT NULL, old_siren TEXT NOT NULL, new_siren TEXT NOT NULL, "
        "old_domain TEXT NOT NULL, new_domain TEXT NOT NULL, old_receipt TEXT NOT NULL, new_receipt TEXT NOT NULL, "
        "old_rank TEXT NOT NULL, new_rank TEXT NOT NULL, rank_shift INTEGER NOT NULL, "
        "old_sha TEXT NOT NULL, new_sha TEXT NOT NULL)"))
    connection.execute(text(
        "CREATE TEMPORARY TABLE scale_owner (tab TEXT NOT NULL, row_id INTEGER NOT NULL, "
        "application_id INTEGER NOT NULL, ref_word TEXT NOT NULL, ref_id INTEGER NOT NULL, ref_span INTEGER NOT NULL)"))
    columns = list(plan.rows[0])
    connection.execute(text(f"INSERT INTO scale_map ({', '.join(columns)}) VALUES "
                            f"({', '.join(':' + c for c in columns)})"), plan.rows)
    owned = [{"tab": name, "row_id": row.row_id, "application_id": row.application_id,
              "ref_word": row.ref_word or NEVER, "ref_id": row.ref_id, "ref_span": spans.get(row.ref_table, 0)}
             for name, rows in owners.items() for row in rows]
    connection.execute(text("INSERT INTO scale_owner VALUES (:tab, :row_id, :application_id, :ref_word, :ref_id, "
                            ":ref_span)"), owned)
    connection.execute(text("CREATE INDEX scale_owner_row ON scale_owner (tab, row_id)"))
    connection.execute(text("CREATE INDEX scale_map_application ON scale_map (application_id)"))


def _is_text(column: Any) -> bool:
    kind = column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type
    return isinstance(kind, String)


def _insert(table: Table, dialect: str, spans: dict[str, int]) -> str:
    """One INSERT … SELECT making every copy of `table`'s owned rows (`scale_owner` × `scale_map`)."""
    names: list[str] = []
    values: list[str] = []
    for column in table.columns:
        name = column.name
        source = f"b.{name}"
        foreign = [key.column.table.name for key in column.foreign_keys]
        if column.primary_key and isinstance(column.type, Integer):
            value = f"{source} + m.copy_no * {spans[table.name]}"
        elif foreign and foreign[0] in spans:
            value = f"{source} + m.copy_no * {spans[foreign[0]]}"
        elif foreign:
            value = source  # the programme, the register: kept once
        elif table.name == "chartersignature" and name == "audit_entry_id":  # the copy's own entry
            value = f"{source} + m.copy_no * {spans['auditentry']}"
        elif table.name == "auditentry" and name == "seq":  # unique in the chain (copies are not chained)
            value = f"{source} + m.copy_no * {spans[table.name]}"
        elif table.name == "pilot" and name == "rank":
            value = f"{source} + m.rank_shift"
        elif table.name == "auditentry" and name == "entity_id":
            cases = " ".join(f"WHEN '{entity}' THEN {source} + m.copy_no * {spans[target]}"
                             for entity, target in AUDIT_ENTITIES.items())
            value = f"CASE b.entity {cases} ELSE {source} END"
        elif table.name == "notice" and name == "dedup_key":
            value = (f"REPLACE({_rewrite(source)}, o.ref_word || CAST(o.ref_id AS TEXT) || ':', "
                     f"o.ref_word || CAST(o.ref_id + m.copy_no * o.ref_span AS TEXT) || ':')")
        elif table.name == "notice" and name == "message_id":
            value = f"'<c' || CAST(m.copy_no AS TEXT) || '.' || substr({source}, 2)"
        elif table.name == "notice" and name == "digest_id":
            # A territory's digest is its own; the Cerdd's and the consultancy's gather every pilot.
            value = (f"CASE WHEN {_rewrite('b.recipient_email')} = b.recipient_email THEN {source} "
                     f"ELSE '<c' || CAST(m.copy_no AS TEXT) || '.' || substr({source}, 2) END")
        elif table.name == "notice" and name == "calendar":
            uid_old = "'UID:session-' || CAST(o.ref_id AS TEXT) || '@'"
            uid_new = "'UID:session-' || CAST(o.ref_id + m.copy_no * o.ref_span AS TEXT) || '@'"
            value = f"REPLACE({_rewrite(source)}, {uid_old}, {uid_new})"
        elif isinstance(column.type, JSON):
            value = _json_value(dialect, _rewrite(_json_text(dialect, source)))
        elif _is_text(column):
            value = _rewrite(source)
        else:
            value = source
        names.append(name)
        values.append(value)
    return (f"INSERT INTO {table.name} ({', '.join(names)}) SELECT {', '.join(values)} "
            f"FROM {table.name} b JOIN scale_owner o ON o.tab = '{table.name}' AND o.row_id = b.id "
            f"JOIN scale_map m ON m.application_id = o.application_id ORDER BY m.copy_no, b.id")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--factor", type=int, required=True)
    args = parser.parse_args()
    made = multiply(args.url, args.factor, verbose=True)
    print(f"{made.pilots} pilots, {made.applications} applications, {made.rows} rows inserted in {made.seconds:.1f} s")


if __name__ == "__main__":
    main()
