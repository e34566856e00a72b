"""The pilots' years kept between pages (`models.read.pilot_year.YearCache`): a kept year is used only
while it is the year `read_year` would read, whoever changed the database and however."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from models import pilot_changes, training
from models.db import MIGRATIONS_DIR, get_engine, migrate, session_scope
from models.pilots import find_pilot
from models.read.pilot_year import PilotYear, YearCache, read_year
from tests.conftest import at, ctx_of, start_arras
from tests.statements import statements

ARRAS = "200033579"
NOW = "2015-08-20T10:00"
"""After the first session (early August), before the others."""


@pytest.fixture
def arras(selected: str) -> str:
    """Arras under way (charter signed by all, sessions, deliverables, phases and milestones laid
    out), one answer given and one attendance recorded."""
    start_arras(selected)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        pilot = find_pilot(ctx, ARRAS)
        first = training.sessions_of(ctx, pilot)[0]
        training.answer_invitation(ctx, pilot, first, attending=True, people="Claire Dufour", at=at("2015-07-01T12:00"))
        training.record_attendance(ctx, first, person="Émile Zola", organisation="CU d'Arras", present=True,
                                   at=first.ends_at + timedelta(hours=1))
    return selected


def shown(year: PilotYear) -> tuple[Any, ...]:
    """Everything a year holds, as plain values (two years equal when they would show the same)."""
    def rows(items: Any) -> tuple[Any, ...]:
        return tuple(item.model_dump() for item in items)

    return (year.pilot.model_dump(), year.application.model_dump(),
            tuple(sorted((party, row.model_dump()) for party, row in year.signatures.items())),
            year.charter_text.model_dump() if year.charter_text else None, rows(year.phases),
            rows(year.milestones), rows(year.past.all(year.sessions)), rows(year.answers),
            tuple(sorted((key, rows(marks)) for key, marks in year.attendance.items())), rows(year.deliverables),
            year.as_of, year.past.empty)


def through(cache: YearCache, url: str, when: str | datetime, siren: str = ARRAS) -> tuple[Any, Any]:
    """The year through `cache` and as read again, each in its own transaction, as plain values."""
    instant = at(when) if isinstance(when, str) else when
    with session_scope(url) as session:
        ctx = ctx_of(session)
        kept = shown(cache.read(ctx, find_pilot(ctx, siren), instant))
    with session_scope(url) as session:
        ctx = ctx_of(session)
        fresh = shown(read_year(ctx, find_pilot(ctx, siren), instant))
    return kept, fresh


def changed(url: str, statement: str) -> None:
    """`statement` run as plain SQL in its own transaction: no code of the product's."""
    with session_scope(url) as session:
        session.execute(text(statement))


CHANGES = {
    "pilot": "UPDATE pilot SET name = name || ' (renommé)'",
    "application": "UPDATE application SET lead_name = lead_name || ' (renommée)'",
    "chartersignature": "UPDATE chartersignature SET signatory = 'Quelqu''un d''autre'",
    "chartertext": "UPDATE chartertext SET text = text || ' Article ajouté.'",
    "pilotphase": "UPDATE pilotphase SET title = title || ' (revue)'",
    "milestone": "UPDATE milestone SET title = title || ' (revu)'",
    "trainingsession": "UPDATE trainingsession SET title = title || ' (revue)'",
    "deliverable": "UPDATE deliverable SET title = title || ' (revu)'",
    "sessionanswer": "UPDATE sessionanswer SET people = 'Jean Martin'",
    "attendance": "UPDATE attendance SET present = NOT present",
    "attendance (deleted)": "DELETE FROM attendance",
    "sessionanswer (deleted)": "DELETE FROM sessionanswer",
}


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_a_kept_year_is_read_again_once_any_of_its_rows_is_changed_by_plain_sql(arras: str, change: str) -> None:
    cache = YearCache()
    before, fresh = through(cache, arras, NOW)
    assert before == fresh
    again, _ = through(cache, arras, NOW)
    assert (again, cache.hits, cache.misses) == (before, 1, 1)

    changed(arras, CHANGES[change])
    after, fresh = through(cache, arras, NOW)
    assert after == fresh
    assert after != before, "the change shows in the year"
    assert cache.misses == 2


def test_a_kept_year_costs_one_statement_and_a_changed_one_its_reads(arras: str) -> None:
    cache = YearCache()
    with session_scope(arras) as session:
        ctx = ctx_of(session)
        pilot = find_pilot(ctx, ARRAS)
        with statements() as first:
            cache.read(ctx, pilot, at(NOW))
        with statements() as second:
            cache.read(ctx, pilot, at(NOW) + timedelta(hours=1))
    assert (len(first), len(second)) == (6, 1)  # the stamp (with the next attendance), the year's five reads


def test_an_act_through_the_product_in_another_transaction_shows_at_once(arras: str) -> None:
    cache = YearCache()
    through(cache, arras, NOW)
    with session_scope(arras) as session:
        ctx = ctx_of(session)
        pilot = find_pilot(ctx, ARRAS)
        second = training.sessions_of(ctx, pilot)[1]
        training.answer_invitation(ctx, pilot, second, attending=False, people="", at=at(NOW))
    kept, fresh = through(cache, arras, NOW)
    assert kept == fresh
    assert len(kept[7]) == 2, "both answers"


def test_an_attendance_recorded_later_is_left_out_until_its_instant(arras: str) -> None:
    recorded = at("2015-08-25T18:00")
    with session_scope(arras) as session:
        ctx = ctx_of(session)
        first = training.sessions_of(ctx, find_pilot(ctx, ARRAS))[0]
        training.record_attendance(ctx, first, person="Zoé Durand", organisation="CU d'Arras", present=False,
                                   at=recorded)
    cache = YearCache()
    for when in (NOW, recorded - timedelta(seconds=1), recorded, recorded + timedelta(days=1)):
        kept, fresh = through(cache, arras, when)
        assert kept == fresh, when
    people = [mark["person"] for _, marks in kept[8] for mark in marks]
    assert "Zoé Durand" in people
    assert (cache.hits, cache.misses) == (2, 2), "read again at the attendance's instant, kept on either side"


def test_an_earlier_instant_and_a_replayed_past_are_read_again(arras: str) -> None:
    with session_scope(arras) as session:
        ctx = ctx_of(session)
        moved = training.sessions_of(ctx, find_pilot(ctx, ARRAS))[2]
        training.reschedule(ctx, moved, to=moved.starts_at + timedelta(days=14), reason="Élus indisponibles",
                            at=at("2015-08-28T10:00"))
    cache = YearCache()
    for when in ("2015-08-29T10:00", "2015-08-22T10:00", "2015-08-22T10:00", "2015-08-30T10:00"):
        kept, fresh = through(cache, arras, when)
        assert kept == fresh, when
    assert kept[-1] is True, "nothing to undo after 08-30"
    # 08-29 kept; 08-22 is earlier (read again), and has an act after it to undo (not kept, twice);
    # 08-30 is after the kept 08-29
    assert (cache.hits, cache.misses) == (1, 3)


def test_a_kept_year_outlives_the_rollback_of_the_transaction_that_read_it(arras: str) -> None:
    cache = YearCache()
    with pytest.raises(RuntimeError), session_scope(arras) as session:
        ctx = ctx_of(session)
        cache.read(ctx, find_pilot(ctx, ARRAS), at(NOW))
        raise RuntimeError("la page n'a pas pu être composée")
    kept, fresh = through(cache, arras, NOW)
    assert kept == fresh
    assert cache.hits == 1


def test_the_cache_keeps_at_most_its_size_least_recently_used_dropped(arras: str) -> None:
    cache = YearCache(size=1)
    through(cache, arras, NOW)
    through(cache, arras, NOW, siren="200040947")  # Lens (charter pending): Arras dropped
    through(cache, arras, NOW)
    assert (cache.hits, cache.misses) == (0, 3)
    through(cache, arras, NOW)
    assert cache.hits == 1


def test_every_pilot_has_a_stamp_from_its_first_row(arras: str) -> None:
    with session_scope(arras) as session:
        counts = dict(session.execute(text("SELECT p.id, (SELECT count(*) FROM pilot_change c WHERE c.pilot_id = p.id) "
                                           "FROM pilot p")).all())
    assert counts and min(counts.values()) >= 1


def _with_triggers(url: str) -> dict[str, int]:
    with get_engine(url).connect() as connection:
        return pilot_changes.installed(connection)


def test_every_table_of_the_year_has_its_triggers(arras: str) -> None:
    each = 2 if get_engine(arras).dialect.name == "postgresql" else 3  # rows and TRUNCATE; insert, update, delete
    assert _with_triggers(arras) == dict.fromkeys(pilot_changes.WATCHED, each)


def test_a_later_batch_migration_loses_no_trigger_once_migrate_has_run(arras: str) -> None:
    cache = YearCache()
    through(cache, arras, NOW)
    with get_engine(arras).begin() as connection:  # what a later SQLite migration does: copy, drop, rename
        operations = Operations(MigrationContext.configure(connection))
        with operations.batch_alter_table("milestone", recreate="always") as batch:
            batch.create_unique_constraint("uq_milestone_pilot_key_test", ["pilot_id", "key"])
    lost = _with_triggers(arras)["milestone"]
    # as `migrate` does after any upgrade (the schema is at head here: ensure is called directly)
    with get_engine(arras).begin() as connection:
        pilot_changes.ensure(connection)
    assert _with_triggers(arras)["milestone"] == (2 if get_engine(arras).dialect.name == "postgresql" else 3)
    if get_engine(arras).dialect.name == "sqlite":
        assert lost == 0, "batch mode copied the table without its triggers (what this test guards against)"
    changed(arras, "UPDATE milestone SET title = title || ' (revu)'")
    kept, fresh = through(cache, arras, NOW)
    assert kept == fresh


def test_migrate_makes_the_triggers_again_after_an_upgrade(arras: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(pilot_changes, "ensure", lambda connection: calls.append(connection.dialect.name))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = get_engine(arras)
    command.downgrade(config, "-1")
    migrate(arras)
    assert calls and calls[-1] == get_engine(arras).dialect.name


REPLACED_TO_LENS = ("INSERT OR REPLACE INTO deliverable (id, pilot_id, key, title, due_at, revision) "
                    "SELECT id, (SELECT p.id FROM pilot p JOIN application a ON a.id = p.application_id "
                    "WHERE a.lead_siren = '200040947'), key, title, due_at, revision FROM deliverable "
                    "WHERE id = (SELECT min(id) FROM deliverable)")
WITHOUT_ROW_TRIGGERS = {
    # PostgreSQL: TRUNCATE fires no row trigger; SQLite: a REPLACE deletes the row it replaces
    # without its delete trigger unless recursive_triggers is on
    "postgresql": ["TRUNCATE attendance", "TRUNCATE sessionanswer"],
    "sqlite": [REPLACED_TO_LENS],
}


def test_statements_that_fire_no_row_trigger_still_read_the_years_again(arras: str) -> None:
    cache = YearCache()
    for statement in WITHOUT_ROW_TRIGGERS[get_engine(arras).dialect.name]:
        before, _ = through(cache, arras, NOW)
        changed(arras, statement)
        kept, fresh = through(cache, arras, NOW)
        assert kept == fresh != before, statement


def test_a_cache_of_size_zero_keeps_nothing_and_reads_every_year(arras: str) -> None:
    cache = YearCache(size=0)
    for _ in range(2):
        kept, fresh = through(cache, arras, NOW)
        assert kept == fresh
    assert (cache.hits, len(cache._kept)) == (0, 0)
