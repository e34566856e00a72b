"""`transitions audit verify|tete|ancre` on the 2015 replay, as a user runs them (a process each):
the chain verifies; each rewrite of a row makes verify exit 1 naming the entry in French; the
day's anchor is written once and a rewrite of the whole chain fails against it; the progress
report carries the head."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlmodel import col, select

from models.audit_chain import verify
from models.audit_hash import entry_sha256
from models.clock import paris
from models.db import get_engine, session_scope
from models.tables import AuditEntry, Programme


def _cli(url: str, data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(data_dir), "COLUMNS": "200",
           "PYTHONPATH": str(Path(__file__).parents[2])}
    return subprocess.run([sys.executable, "-c", "from transitions.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def _copy(replayed: tuple[Path, str], tmp_path: Path, name: str) -> str:
    shutil.copyfile(replayed[1].removeprefix("sqlite:///"), tmp_path / f"{name}.db")
    return f"sqlite:///{tmp_path / name}.db"


def _entries(url: str) -> list[AuditEntry]:
    with session_scope(url) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.chain > 0).order_by(col(AuditEntry.seq))))


def _sql(url: str, statement: str, **values: object) -> None:
    with get_engine(url).begin() as connection:
        connection.execute(text(statement), values)


def test_the_replayed_log_verifies(replayed: tuple[Path, str], tmp_path: Path) -> None:
    _out, url = replayed
    entries = _entries(url)
    with session_scope(url) as session:
        check = verify(session, session.exec(select(Programme)).one().id)
    assert check.whole and check.checked == len(entries) > 200
    assert (check.head.seq, check.head.entry_hash) == (entries[-1].seq, entries[-1].entry_hash)
    done = _cli(url, tmp_path, "audit", "verify")
    assert done.returncode == 0, done.stderr
    assert f"Journal intègre (cerdd-2015) : {len(entries)} entrées, tête n° {len(entries)}, " \
           f"empreinte {entries[-1].entry_hash}" in " ".join(done.stdout.split())
    heads = json.loads(_cli(url, tmp_path, "audit", "tete", "--json").stdout)
    assert heads == [{"programme": "cerdd-2015", "seq": len(entries), "empreinte": entries[-1].entry_hash,
                      "instant": paris(entries[-1].at).isoformat()}]


def test_each_rewrite_is_named_by_verify(replayed: tuple[Path, str], tmp_path: Path) -> None:
    url = _copy(replayed, tmp_path, "resume")
    target = _entries(url)[40]
    _sql(url, "UPDATE auditentry SET summary = 'Rien de notable.' WHERE id = :id", id=target.id)
    done = _cli(url, tmp_path, "audit", "verify", "--programme", "cerdd-2015")
    assert done.returncode == 1
    said = " ".join(done.stderr.split())
    assert f"Journal altéré (cerdd-2015) : entrée n° 41 (numéro {target.id}, " in said
    assert f"{target.action}) : contenu modifié (résumé)." in said

    url = _copy(replayed, tmp_path, "supprime")
    _sql(url, "DELETE FROM auditentry WHERE id = :id", id=_entries(url)[40].id)
    done = _cli(url, tmp_path, "audit", "verify")
    assert done.returncode == 1
    assert "entrée n° 42" in done.stderr and "entrée supprimée ou déplacée (seq 41 attendu, 42 trouvé)" in done.stderr

    done = _cli(url, tmp_path, "audit", "verify", "--programme", "inconnu")
    assert done.returncode == 3 and "Programme « inconnu » inconnu." in done.stderr


def test_the_anchor_is_written_once_a_day_and_catches_a_rewritten_chain(replayed: tuple[Path, str],
                                                                        tmp_path: Path) -> None:
    url = _copy(replayed, tmp_path, "ancre")
    data_dir = tmp_path / "donnees"
    first = _cli(url, data_dir, "audit", "ancre", "--at", "2016-09-01T00:05")
    assert first.returncode == 0, first.stderr
    anchor = data_dir / "ancres" / "cerdd-2015" / "2016-09-01.json"
    assert anchor.is_file() and "Ancre écrite" in first.stdout
    kept = anchor.read_text(encoding="utf-8")
    again = _cli(url, data_dir, "audit", "ancre", "--at", "2016-09-01T23:00")
    assert again.returncode == 0 and "rien d'écrit" in again.stdout and anchor.read_text(encoding="utf-8") == kept
    assert _cli(url, data_dir, "audit", "ancre", "--at", "2016-09-02T00:05").returncode == 0
    assert sorted(p.name for p in anchor.parent.iterdir()) == ["2016-09-01.json", "2016-09-02.json"]
    content = json.loads(kept)
    assert content["seq"] == len(_entries(url)) and content["programme"] == "cerdd-2015"

    done = _cli(url, data_dir, "audit", "verify", "--ancre", str(anchor))
    assert done.returncode == 0 and "Ancre retrouvée" in done.stdout
    # Someone changes an early entry and recomputes every hash after it: the chain is whole again...
    with session_scope(url) as session:
        rows = list(session.exec(select(AuditEntry).where(AuditEntry.chain > 0).order_by(col(AuditEntry.seq))))
        rows[10].entity_id = 999
        previous = rows[9].entry_hash
        for row in rows[10:]:
            row.prev_hash = previous
            row.entry_hash = previous = entry_sha256(row)
            session.add(row)
    assert _cli(url, data_dir, "audit", "verify").returncode == 0
    # ...but not the head kept outside.
    done = _cli(url, data_dir, "audit", "verify", "--ancre", str(anchor))
    assert done.returncode == 1
    assert f"l'entrée n° {content['seq']} n'a plus l'empreinte de l'ancre (journal réécrit)" in done.stderr

    hostile = tmp_path / "ancre.json"
    hostile.write_text('{"programme": "cerdd-2015", "seq": "1; DROP", "empreinte": "x", "instant": "?"}')
    done = _cli(url, data_dir, "audit", "verify", "--ancre", str(hostile))
    assert done.returncode == 2 and "n'est pas une ancre du journal" in done.stderr and "Traceback" not in done.stderr


def test_the_report_carries_the_head_at_its_instant(replayed: tuple[Path, str]) -> None:
    out, url = replayed
    entries = _entries(url)
    page = (out / "rapport.html").read_text(encoding="utf-8")
    assert f"entrée n° {entries[-1].seq} du " in page and entries[-1].entry_hash in page


def _cli_env(url: str, data_dir: Path, extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(data_dir), "COLUMNS": "200",
           "PYTHONPATH": str(Path(__file__).parents[2]), **extra}
    return subprocess.run([sys.executable, "-c", "from transitions.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def test_the_anchors_leave_the_machine_once_and_a_refusal_is_sent_again(replayed: tuple[Path, str],
                                                                        tmp_path: Path) -> None:
    from notifications.webhook import signature
    from tests.notifications.servers import HttpSink, http_server

    url = _copy(replayed, tmp_path, "depot")
    data_dir = tmp_path / "donnees"
    sink = HttpSink(statuses=[503])
    with http_server(sink) as receiver:
        extra = {"AUDIT_ANCHOR_URL": receiver, "AUDIT_ANCHOR_SECRET": "cle-de-depot-des-ancres"}
        refused = _cli_env(url, data_dir, extra, "audit", "ancre", "--at", "2016-09-01T00:05")
        assert refused.returncode == 1 and "a répondu 503" in refused.stderr and "Traceback" not in refused.stderr
        assert "nouvel essai à la prochaine exécution" in refused.stderr and not sink.requests
        anchor = data_dir / "ancres" / "cerdd-2015" / "2016-09-01.json"
        assert anchor.is_file() and not anchor.with_name(anchor.name + ".envoye").exists()

        again = _cli_env(url, data_dir, extra, "audit", "ancre", "--at", "2016-09-01T09:00")
        assert again.returncode == 0, again.stderr
        assert "Ancre déposée hors de la machine : cerdd-2015/2016-09-01.json" in again.stdout
        (headers, body), = sink.requests
        assert body == anchor.read_bytes() and json.loads(body)["programme"] == "cerdd-2015"
        assert headers["Idempotency-Key"] == "ancre:cerdd-2015:2016-09-01"
        assert headers["X-Transitions-Signature"] == signature("cle-de-depot-des-ancres", body)

        third = _cli_env(url, data_dir, extra, "audit", "ancre", "--at", "2016-09-01T23:00")
        assert third.returncode == 0 and len(sink.requests) == 1  # accepted once: never sent again
    wrong = _cli_env(url, data_dir, {"AUDIT_ANCHOR_URL": "ftp://archives"}, "audit", "ancre")
    assert wrong.returncode != 0 and "AUDIT_ANCHOR_URL" in wrong.stderr and "Traceback" not in wrong.stderr
