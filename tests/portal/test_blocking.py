"""An act waiting on a database lock holds up nobody else: over real HTTP to uvicorn (its real
thread pool), a signature is held on a lock another connection keeps (SQLite: the write lock;
PostgreSQL: the table of spent form tokens), and meanwhile the icon, the health check and a
territory's page answer; once the lock is released, the signature goes through."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from models.tables import CharterSignature
from tests.guards import HANG_GUARD, join_or_fail, wait_for
from tests.portal.conftest import link, territory
from tests.portal.helpers import count, form_ending
from transitions.portal import state


@contextmanager
def held_lock(url: str) -> Iterator[Any]:
    """Another connection holding what a signature needs, until the block ends; yields a function
    telling whether someone waits on it (PostgreSQL; None on SQLite, which cannot tell)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        other = sqlite3.connect(parsed.database or "", isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield None
        finally:
            other.rollback()
            other.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as holder, engine.connect() as watcher:
            holder.execute(text("LOCK TABLE portalformuse IN EXCLUSIVE MODE"))

            def waiting() -> bool:
                return bool(watcher.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar())

            try:
                yield waiting
            finally:
                holder.rollback()
    finally:
        engine.dispose()


def announce_transactions(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """An event set when an act opens its transaction (`state.write_lock`), just before it takes the lock."""
    in_transaction = threading.Event()
    take_lock = state.write_lock

    def announced(session: Any) -> None:
        in_transaction.set()
        take_lock(session)

    monkeypatch.setattr(state, "write_lock", announced)
    return in_transaction


def test_an_act_held_on_a_lock_blocks_no_other_page(selected: str, serve: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    base = serve(selected)
    _, path = link(selected, territory())
    page = httpx.get(base + path, timeout=HANG_GUARD).text
    form = {**form_ending(page, "/charte").hidden, "signataire": "Frédéric Leturque", "qualite": "Président",
            "lu": "oui"}
    in_transaction = announce_transactions(monkeypatch)
    statuses: list[int] = []

    def sign() -> None:
        statuses.append(httpx.post(base + path + "/charte", data=form, timeout=HANG_GUARD).status_code)

    act = threading.Thread(target=sign, name="signature")
    with held_lock(selected) as waiting:
        act.start()
        wait_for(in_transaction.is_set, "la signature n'ouvre pas sa transaction")
        if waiting is not None:
            wait_for(waiting, "la signature n'attend pas le verrou")
        answers = {p: httpx.get(base + p, timeout=HANG_GUARD).status_code
                   for p in ("/favicon.ico", "/sante", path)}
        blocked = act.is_alive()
    join_or_fail([act], "la signature, une fois le verrou libéré")
    assert answers == {"/favicon.ico": 204, "/sante": 200, path: 200}
    assert blocked, "la signature n'attendait plus le verrou quand les autres pages ont répondu"
    assert statuses == [303]
    assert count(selected, CharterSignature) == 1
