"""The audit log's hash chain: whole after real acts, and every rewrite of a row is named (SQLite and
PostgreSQL): a changed summary, a deleted row, an inserted one, two swapped, an undeclared erasure.
An erasure through `redact_entries` keeps the chain whole."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import text
from sqlmodel import Session, col, func, select

from models import audit
from models.audit_chain import ChainCheck, matches_anchor, verify
from models.audit_hash import ERASED as ERASED_MARK
from models.audit_hash import entry_sha256, seal
from models.db import get_engine, session_scope
from models.tables import AuditEntry, Programme
from tests.conftest import at
from tests.guards import HANG_GUARD, join_or_fail


def _check(url: str) -> ChainCheck:
    with session_scope(url) as session:
        programme = session.exec(select(Programme)).one()
        return verify(session, programme.id)


def _entries(url: str) -> list[AuditEntry]:
    with session_scope(url) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.chain > 0).order_by(col(AuditEntry.seq))))


def _sql(url: str, statement: str, **values: object) -> None:
    with get_engine(url).begin() as connection:
        connection.execute(text(statement), values)


def _first_chain_entries(url: str) -> list[AuditEntry]:
    entries = _entries(url)
    assert len(entries) >= 8, "the selection records a few entries"
    return entries


def test_a_changed_summary_or_instant_is_named(selected: str) -> None:
    entries = _first_chain_entries(selected)
    assert _check(selected).whole
    _sql(selected, "UPDATE auditentry SET summary = summary || '.' WHERE id = :id", id=entries[3].id)
    broken = _check(selected).broken
    assert broken is not None and (broken.entry_id, broken.seq) == (entries[3].id, 4)
    assert broken.reason == "contenu modifié (résumé)"
    _sql(selected, "UPDATE auditentry SET summary = :s WHERE id = :id", s=entries[3].summary, id=entries[3].id)
    assert _check(selected).whole
    _sql(selected, "UPDATE auditentry SET action = 'autre' WHERE id = :id", id=entries[5].id)
    broken = _check(selected).broken
    assert broken is not None and broken.entry_id == entries[5].id
    assert broken.reason == "contenu modifié (instant, action, entité ou chaînage)"


def test_a_deleted_entry_is_named(selected: str) -> None:
    entries = _first_chain_entries(selected)
    _sql(selected, "DELETE FROM auditentry WHERE id = :id", id=entries[4].id)
    broken = _check(selected).broken
    assert broken is not None and (broken.entry_id, broken.seq) == (entries[5].id, 6)
    assert broken.reason == "entrée supprimée ou déplacée (seq 5 attendu, 6 trouvé)"


def test_an_inserted_entry_is_named_even_with_its_hashes_recomputed(selected: str) -> None:
    """The forger shifts the later entries and inserts a well-formed entry chained to the one
    before: the next entry's link still skips it."""
    entries = _first_chain_entries(selected)
    before = entries[2]
    for later in reversed(entries[3:]):
        _sql(selected, "UPDATE auditentry SET seq = seq + 1 WHERE id = :id", id=later.id)
    with Session(get_engine(selected)) as session:
        forged = AuditEntry(programme_id=before.programme_id, chain=before.chain, at=before.at,
                            recorded_at=before.recorded_at, actor="x", action="charte.signee", entity="pilot",
                            entity_id=1, summary="Faux.", details={})
        seal(forged, before.seq, before.entry_hash)
        audit_id = _insert(session, forged)
    broken = _check(selected).broken
    assert broken is not None and (broken.entry_id, broken.seq) == (audit_id, 4)
    assert broken.reason.startswith("entrée insérée")


def _insert(session: Session, entry: AuditEntry) -> int:
    session.add(entry)
    session.commit()
    return int(entry.id or 0)


def test_two_swapped_entries_are_named(selected: str) -> None:
    entries = _first_chain_entries(selected)
    first, second = entries[3], entries[4]
    _sql(selected, "UPDATE auditentry SET seq = -1 WHERE id = :id", id=first.id)
    _sql(selected, "UPDATE auditentry SET seq = :seq WHERE id = :id", seq=first.seq, id=second.id)
    _sql(selected, "UPDATE auditentry SET seq = :seq WHERE id = :id", seq=second.seq, id=first.id)
    broken = _check(selected).broken
    assert broken is not None and (broken.entry_id, broken.seq) == (second.id, 4)
    assert broken.reason.startswith("entrée déplacée")


def test_a_declared_erasure_keeps_the_chain_whole_and_a_forged_one_is_named(selected: str) -> None:
    entries = _first_chain_entries(selected)
    erased, forged = entries[2], entries[6]
    with session_scope(selected) as session:
        declaration = audit.redact_entries(session, {int(erased.id or 0): ("personne effacée", "Résumé effacé.", {})},
                                           programme_id=erased.programme_id, at=at("2018-01-01"),
                                           actor="système", reason="durée de conservation échue")
        session.flush()
        declared_id = declaration.id
    with session_scope(selected) as session:
        kept = session.get(AuditEntry, erased.id)
        # Erased whole, never rewritten: the replacement's words do not enter the log, « [effacé] » does.
        assert kept is not None and (kept.actor, kept.summary) == (ERASED_MARK, ERASED_MARK)
        assert all(salt is None for _, salt in kept.personal_parts.values())
        assert kept.personal_sha256 == erased.personal_sha256 and kept.redacted_at == at("2018-01-01")
        declared = session.get(AuditEntry, declared_id)
        assert declared is not None and declared.details["entrees"] == [erased.id]
        assert "summary" in declared.details["parties"][str(erased.id)]
    check = _check(selected)
    assert check.whole, check.broken
    assert check.head.seq == entries[-1].seq + 1
    # A forger "erases" a row to hide a rewrite: no later declaration lists it.
    with session_scope(selected) as session:
        row = session.get(AuditEntry, forged.id)
        assert row is not None
        row.summary, row.redacted_at = ERASED_MARK, at("2018-01-02")
        row.personal_parts = {**row.personal_parts, "summary": [row.personal_parts["summary"][0], None]}
        session.add(row)
    broken = _check(selected).broken
    assert broken is not None and broken.entry_id == forged.id
    assert broken.reason.startswith("effacement non déclaré")


def _forge(url: str, entry_id: int, part: str, value: object, *, declare: bool) -> None:
    """What whoever holds the database can do: drop a part's salt, write `value` in it, and append
    a well-chained declaration of the "erasure"."""
    with session_scope(url) as session:
        row = session.get(AuditEntry, entry_id)
        assert row is not None
        if part.startswith("details."):
            row.details = {**row.details, part.removeprefix("details."): value}
        else:
            setattr(row, part, value)
        row.personal_parts = {**row.personal_parts, part: [row.personal_parts[part][0], None]}
        row.redacted_at = at("2018-01-02")
        session.add(row)
        if declare:
            audit.record(session, programme_id=row.programme_id, at=at("2018-01-02"), actor="système",
                         action=audit.ERASED, entity="audit", entity_id=None, summary="Données effacées",
                         details={"entrees": [entry_id], "parties": {str(entry_id): [part]}, "motif": "x"})


def test_an_erasure_hides_a_fact_but_never_rewrites_it(selected: str) -> None:
    """The attack found after the first chain: once erased, a part was covered by nothing, so a
    signature's entry could be rewritten (signatory, hash signed) and verify still said whole."""
    entries = _first_chain_entries(selected)
    target = next(e for e in entries if "details." + next(iter(e.details), "") in e.personal_parts
                  and e.details)
    with session_scope(selected) as session:
        audit.redact_entries(session, {int(target.id or 0): ("[effacé]", target.summary, dict(target.details))},
                             programme_id=target.programme_id, at=at("2018-01-01"), actor="système", reason="purge")
    assert _check(selected).whole
    # Rewriting the erased actor afterwards is named…
    with session_scope(selected) as session:
        row = session.get(AuditEntry, target.id)
        assert row is not None and row.actor == ERASED_MARK and row.summary == target.summary
        row.actor = "Jean Faussaire"
        session.add(row)
    broken = _check(selected).broken
    assert broken is not None and broken.entry_id == target.id and "effacé puis réécrit" in broken.reason
    with session_scope(selected) as session:
        row = session.get(AuditEntry, target.id)
        assert row is not None
        row.actor = ERASED_MARK
        session.add(row)
    assert _check(selected).whole
    # …and so is a part left whole by the erasure but changed since.
    key = next(iter(target.details))
    with session_scope(selected) as session:
        row = session.get(AuditEntry, target.id)
        assert row is not None
        row.details = {**row.details, key: "autre valeur"}
        session.add(row)
    broken = _check(selected).broken
    assert broken is not None and broken.entry_id == target.id and broken.reason.startswith("contenu modifié")


def test_a_forged_and_declared_erasure_can_only_hide(selected: str) -> None:
    entries = _first_chain_entries(selected)
    victim = entries[4]
    _forge(selected, int(victim.id or 0), "summary", "Signée par Jean Faussaire.", declare=True)
    broken = _check(selected).broken
    assert broken is not None and broken.entry_id == victim.id and "effacé puis réécrit" in broken.reason


def test_a_hash_recorded_in_an_entry_is_a_fact_never_erased(selected: str) -> None:
    programme_id = _first_chain_entries(selected)[0].programme_id
    with session_scope(selected) as session:
        signed = audit.record(session, programme_id=programme_id,
                              at=at("2015-06-12"), actor="territoire", action="charte.signee", entity="pilot",
                              entity_id=1, summary="Charte signée par Jean-Marc Lefebvre.",
                              details={"charte_sha256": "a" * 64, "signataire": "Jean-Marc Lefebvre"})
        session.flush()
        signed_id = int(signed.id or 0)
    with session_scope(selected) as session:
        audit.redact_entries(session, {signed_id: ("[effacé]", "[effacé]", {"charte_sha256": "f" * 64})},
                             programme_id=programme_id, at=at("2018-01-01"), actor="système", reason="purge")
    with session_scope(selected) as session:
        row = session.get(AuditEntry, signed_id)
        assert row is not None and row.details == {"charte_sha256": "a" * 64, "signataire": ERASED_MARK}
    assert _check(selected).whole
    _forge(selected, signed_id, "details.charte_sha256", ERASED_MARK, declare=True)
    broken = _check(selected).broken
    assert broken is not None and broken.entry_id == signed_id and "effacement d'un fait" in broken.reason


def test_an_anchor_detects_a_rewrite_of_the_whole_chain(selected: str) -> None:
    """Recomputing every hash after a change makes the chain whole again: only the head kept
    outside tells."""
    entries = _first_chain_entries(selected)
    anchor = entries[-1]
    with session_scope(selected) as session:
        assert matches_anchor(session, anchor.programme_id, anchor.seq, anchor.entry_hash) is None
    with session_scope(selected) as session:
        rows = list(session.exec(select(AuditEntry).where(AuditEntry.chain == anchor.chain)
                                 .order_by(col(AuditEntry.seq))))
        rows[1].at = at("2015-01-01")
        previous = "0" * 64
        for row in rows:
            row.prev_hash = previous
            row.entry_hash = previous = entry_sha256(row)
            session.add(row)
    assert _check(selected).whole
    with session_scope(selected) as session:
        assert matches_anchor(session, anchor.programme_id, anchor.seq, anchor.entry_hash) == (
            f"l'entrée n° {anchor.seq} du journal n'a plus l'empreinte de l'ancre (journal réécrit)")
        assert "n'existe plus" in (matches_anchor(session, anchor.programme_id, anchor.seq + 50, "0") or "")


def test_migration_0019_chains_the_entries_already_written(selected: str) -> None:
    """Down to 0018 (no chain) and up again: the existing entries are chained in id order."""
    from alembic import command
    from alembic.config import Config

    from models.db import MIGRATIONS_DIR

    ids = [e.id for e in _entries(selected)]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = get_engine(selected)
    command.downgrade(config, "0018")
    command.upgrade(config, "head")
    entries = _entries(selected)
    assert [e.id for e in entries] == ids and [e.seq for e in entries] == list(range(1, len(ids) + 1))
    assert all(e.personal_parts and all(salt for _, salt in e.personal_parts.values()) and len(e.entry_hash) == 64
               for e in entries)
    assert _check(selected).whole


def test_acts_recorded_at_once_by_several_sessions_make_one_unbroken_chain(loaded: str) -> None:
    """Six threads, each with its own sessions, record at once (two entries per transaction, one
    of them with no programme): one chain per programme, no seq twice, nothing broken."""
    import threading

    from tests.guards import join_or_fail

    with session_scope(loaded) as session:
        programme_id = session.exec(select(Programme)).one().id
    start = threading.Barrier(6)
    failures: list[BaseException] = []

    def act(worker: int) -> None:
        try:
            start.wait(timeout=60)
            for turn in range(8):
                with session_scope(loaded) as session:
                    session.exec(select(Programme)).one()  # an act reads before it writes
                    for programme in (programme_id, None if turn % 4 == 0 else programme_id):
                        audit.record(session, programme_id=programme, at=at("2015-05-01T10:00"),
                                     actor=f"agent {worker}", action="test.parallele", entity="programme",
                                     entity_id=programme, summary=f"Acte {worker}-{turn}.")
        except BaseException as exc:  # reported below, with the others
            failures.append(exc)

    threads = [threading.Thread(target=act, args=(worker,)) for worker in range(6)]
    for thread in threads:
        thread.start()
    join_or_fail(threads, "les enregistrements parallèles")
    assert failures == []
    with session_scope(loaded) as session:
        chained = verify(session, programme_id)
        orphans = verify(session, None)
        rows = session.exec(select(AuditEntry.chain, AuditEntry.seq)).all()
    assert chained.whole and orphans.whole
    assert len(rows) == len(set(rows)) and orphans.checked == 6 * 2
    assert chained.checked == 1 + 6 * 8 * 2 - 6 * 2  # the programme's installation, then the acts


def test_the_listing_shows_the_entries_without_a_programme_unless_one_is_named(selected: str) -> None:
    """A person's export is recorded in chain 0 (no programme): the programme's listing shows it
    unless asked for the programme's entries alone."""
    with session_scope(selected) as session:
        programme_id = session.exec(select(Programme)).one().id
        assert programme_id is not None
        orphan = audit.record(session, programme_id=None, at=at("2030-01-01"), actor="cli", action="donnees.exportees",
                              entity="personne", entity_id=None, summary="Données d'une personne exportées.")
        session.flush()
        orphan_id = orphan.id
    with session_scope(selected) as session:
        listed = audit.entries(session, programme_id, action="donnees", unattached=True)
        assert [(e.id, e.chain, e.seq) for e in listed] == [(orphan_id, 0, 1)]
        assert audit.entries(session, programme_id, action="donnees") == []
        assert audit.entries(session, programme_id, limit=1, unattached=True)[0].id == orphan_id


def test_an_entry_takes_its_place_in_the_chain_when_its_transaction_commits(loaded: str) -> None:
    """Recorded, an entry has its id (once flushed) but no place yet (a pending seq, never
    committed); the commit places it after the head. A savepoint rolled back takes its entry away,
    and a transaction rolled back leaves the chain as it was."""
    with session_scope(loaded) as session:
        programme_id = session.exec(select(Programme)).one().id
    before = _check_head(loaded, programme_id)
    with session_scope(loaded) as session:
        kept = _record(session, programme_id, "Gardée.")
        with session.begin_nested() as savepoint:
            _record(session, programme_id, "Retirée avec son point de sauvegarde.")
            savepoint.rollback()
        session.flush()
        assert kept.id and kept.seq < 0 and kept.entry_hash == ""
        assert session.get(AuditEntry, kept.id) is kept
    with session_scope(loaded) as session:
        placed = session.get(AuditEntry, kept.id)
        assert placed is not None and placed.seq == before + 1 and placed.prev_hash and len(placed.entry_hash) == 64
    session = Session(get_engine(loaded))
    _record(session, programme_id, "Abandonnée.")
    session.flush()
    session.rollback()
    session.close()
    with session_scope(loaded) as session:
        assert session.exec(select(func.min(AuditEntry.seq))).one() == 1
        assert session.exec(select(func.count()).select_from(AuditEntry).where(
            col(AuditEntry.summary).in_(["Retirée avec son point de sauvegarde.", "Abandonnée."]))).one() == 0
    check = verify_programme(loaded, programme_id)
    assert check.whole and check.head.seq == before + 1


def _record(session: Session, programme_id: int | None, summary: str) -> AuditEntry:
    return audit.record(session, programme_id=programme_id, at=at("2015-05-01T10:00"), actor="test",
                        action="test.ordre", entity="programme", entity_id=programme_id, summary=summary)


def _check_head(url: str, programme_id: int | None) -> int:
    return verify_programme(url, programme_id).head.seq


def verify_programme(url: str, programme_id: int | None) -> ChainCheck:
    with session_scope(url) as session:
        return verify(session, programme_id)


def _act_while_open(url: str, long_work: Callable[[Session], object], act: Callable[[Session], object],
                    what: str) -> tuple[object, object]:
    """Run `long_work` in a transaction of its own thread, and, once it has flushed what it
    recorded, `act` in another transaction (this thread) to its commit; the long transaction
    commits only then, or after HANG_GUARD seconds if the act waits for it. Fails unless the act
    committed while the long transaction was still open. Returns what each returned."""
    recorded, act_committed = threading.Event(), threading.Event()
    seen: dict[str, object] = {}
    failures: list[BaseException] = []

    def long_transaction() -> None:
        try:
            with session_scope(url) as session:
                seen["long"] = long_work(session)
                session.flush()
                recorded.set()
                seen["act committed while open"] = act_committed.wait(HANG_GUARD)
        except BaseException as exc:  # reported below
            failures.append(exc)
            recorded.set()

    thread = threading.Thread(target=long_transaction, name=what)
    thread.start()
    assert recorded.wait(HANG_GUARD), f"{what} : rien d'enregistré"
    with session_scope(url) as session:
        done = act(session)
    act_committed.set()
    join_or_fail([thread], what)
    assert failures == []
    assert seen["act committed while open"] is True, f"l'acte a attendu la fin de : {what}"
    return seen["long"], done


def _entries_after(url: str, programme_id: int | None, head: int) -> list[AuditEntry]:
    with session_scope(url) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.chain == programme_id, AuditEntry.seq > head)
                                 .order_by(col(AuditEntry.seq))).all())


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_an_act_commits_while_a_long_transaction_holds_entries_of_its_chain(loaded: str) -> None:
    """Issue 25: a tick's stage at national scale records its first entry seconds before it
    commits; people's acts on the same programme no longer wait for it. A long transaction
    records entries and stays open until an act (another connection, same chain) has committed:
    the act commits first, then the long one, and each takes its place in the order they
    committed. PostgreSQL only: SQLite has one writer at a time, whatever the chain does."""
    with session_scope(loaded) as session:
        programme_id = session.exec(select(Programme)).one().id
    head = _check_head(loaded, programme_id)
    steps = [f"Étape {step} d'une longue transaction." for step in range(3)]
    _, act = _act_while_open(loaded, lambda session: [_record(session, programme_id, step) for step in steps],
                             lambda session: _record(session, programme_id, "Un acte pendant la longue transaction."),
                             "la longue transaction")
    rows = _entries_after(loaded, programme_id, head)
    assert [row.summary for row in rows] == ["Un acte pendant la longue transaction.", *steps]
    assert isinstance(act, AuditEntry) and rows[0].id == act.id
    assert all((row.id or 0) < (act.id or 0) for row in rows[1:])  # recorded before the act, placed after it
    assert verify_programme(loaded, programme_id).whole


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_territory_signs_while_a_tick_stage_is_still_open(loaded: str) -> None:
    """The same with the real thing: the stages of the accompaniment's start (three pilots, one
    started, every stage in one open transaction, the programme's row locked as a tick holds it)
    have recorded their entries; the CC de Flandre Intérieure signs its charter meanwhile (its
    signature's rows refer to the programme), and its signature commits before the stages do."""
    from models.charter import sign_charter
    from models.pilots import find_pilot
    from models.schedule import STAGES, run_stage
    from notifications.render import render_notice
    from tests.conftest import ctx_of, select_three_pilots

    select_three_pilots(loaded)
    with session_scope(loaded) as session:
        ctx = ctx_of(session)
        programme_id = ctx.programme_id
        arras = find_pilot(ctx, "200033579")
        for party in ("territoire", "cerdd", "prestataire"):
            sign_charter(ctx, arras, party=party, signatory="Quelqu'un", at=at("2015-06-20T10:00"))
    head = _check_head(loaded, programme_id)

    def sign(session: Session) -> bool:
        ctx = ctx_of(session)
        return sign_charter(ctx, find_pilot(ctx, "200040947"), party="territoire", signatory="Jean Dupont",
                            at=at("2015-07-01T09:31"))

    changes, signed = _act_while_open(
        loaded, lambda session: sum(run_stage(session, each.name, at("2015-07-01T09:30"), renderer=render_notice)
                                    for each in STAGES), sign, "les étapes du 1er juillet")
    rows = _entries_after(loaded, programme_id, head)
    assert signed is True and isinstance(changes, int) and changes > 0
    assert rows[0].action == "charte.signee" and len(rows) > 1
    assert verify_programme(loaded, programme_id).whole
