"""A programme's validated definition is kept per process, and follows what is stored."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import text

from models.context import definition_of, install_programme, load_ctx
from models.db import session_scope
from tests.conftest import PROGRAMME, at
from tests.statements import statements
from transitions.programmes import load_programme


def test_the_same_stored_definition_is_validated_once(loaded: str) -> None:
    with session_scope(loaded) as session:
        first = load_ctx(session).definition
    with session_scope(loaded) as session:
        assert load_ctx(session).definition is first


def test_a_programme_installed_again_with_another_definition_is_read_anew(loaded: str) -> None:
    with session_scope(loaded) as session:
        before = load_ctx(session).definition
    bundle = load_programme(PROGRAMME)
    changed = dataclasses.replace(bundle, definition=bundle.definition.model_copy(
        update={"title": "Transitions, édition revue"}))
    with session_scope(loaded) as session:
        install_programme(session, changed, at("2015-04-01T10:00"), "test")
    with session_scope(loaded) as session:
        after = load_ctx(session).definition
    assert after is not before
    assert after.title == "Transitions, édition revue"


def test_a_definition_changed_in_place_is_not_mistaken_for_the_one_validated(loaded: str) -> None:
    with session_scope(loaded) as session:
        programme = load_ctx(session).programme
        programme.definition["title"] = "Titre changé en mémoire"
        assert definition_of(programme).title == "Titre changé en mémoire"
        session.rollback()


ON_POSTGRESQL = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
"""SQLite has no row version: its definition is read and compared every time."""


@ON_POSTGRESQL
def test_on_postgresql_a_page_reads_no_definition_while_the_programme_row_is_unchanged(loaded: str) -> None:
    with session_scope(loaded) as session:
        first = load_ctx(session).definition
    with session_scope(loaded) as session, statements() as sent:
        ctx = load_ctx(session)
        assert ctx.definition is first
    assert len(sent) == 1 and "definition" not in sent[0]  # 14 KB of JSON neither sent nor decoded
    with session_scope(loaded) as session:
        assert load_ctx(session).programme.definition["title"] == first.title  # still there when asked


@ON_POSTGRESQL
def test_on_postgresql_a_definition_changed_by_plain_sql_is_read_anew(loaded: str) -> None:
    with session_scope(loaded) as session:
        before = load_ctx(session).definition
    with session_scope(loaded) as session:  # as a manual fix in psql would: no ORM, no trigger of ours
        session.execute(text("UPDATE programme SET definition = "
                             "(definition::jsonb || jsonb_build_object('title', 'Titre réparé à la main'))::json"))
    with session_scope(loaded) as session:
        after = load_ctx(session).definition
    assert after is not before
    assert after.title == "Titre réparé à la main"


@ON_POSTGRESQL
def test_a_definition_changed_twice_in_one_transaction_is_not_kept_under_its_first_change(loaded: str) -> None:
    retitle = text("UPDATE programme SET definition = "  # found by the hostile review: one xmin for both
                   "(definition::jsonb || jsonb_build_object('title', CAST(:title AS text)))::json")
    with session_scope(loaded) as session:
        session.execute(retitle, {"title": "Première correction"})
        assert load_ctx(session).definition.title == "Première correction"
        session.execute(retitle, {"title": "Seconde correction"})
    with session_scope(loaded) as session:
        assert load_ctx(session).definition.title == "Seconde correction"
