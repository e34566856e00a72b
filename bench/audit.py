"""Cost of the audit log's hash chain: one act's audit entry chained (`models.audit.record`, then at
its commit the chain lock, head read, seq and two SHA-256 written) against a plain insert of the
same row, each in its own transaction, in turn, on SQLite and (with `--pg URL`) PostgreSQL; and, with `--before DIR` (a
checkout of the code before the chain, e.g. `git archive main | tar -x -C DIR`), the whole 2015
replay (plain ticks, no Prefect) of that code against this one, in turn, as processes.

Usage: `.venv/bin/python bench/audit.py [--rounds 5] [--entries 300] [--pg URL] [--before DIR]`;
`bench/run.py --only audit` runs the first part. Prints ratios against the floor measured in the
same run (the machine may be shared).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.timing import Measure, in_turn  # noqa: E402

REPLAY = """
import io, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from rich.console import Console
from flows.plain import run_tick_plain
from transitions.demo import run_demo
run_demo(Path(sys.argv[2]), Console(file=io.StringIO()), tick=run_tick_plain, replace=True,
         secret="Vb7Qk2Lx9Pz4Mw6Rt1Jn8Hc3Gd5Fs0Ya2Ue4Ko7")
"""


def record_against_insert(url: str, entries: int, rounds: int) -> dict[str, Measure]:
    """`entries` transactions of one audit entry each, chained vs plain, in turn."""
    from sqlmodel import Session

    from models import audit
    from models.context import install_programme
    from models.db import get_engine, migrate, session_scope
    from models.tables import AuditEntry
    from transitions.programmes import load_programme

    migrate(url)
    with session_scope(url) as session:
        programme_id = install_programme(session, load_programme(ROOT / "programmes" / "cerdd-2015.yaml"),
                                         datetime(2015, 4, 1, 7, tzinfo=UTC), "bench")[0].programme_id
    at = datetime(2015, 5, 7, 10, tzinfo=UTC)
    fields: dict[str, Any] = {"programme_id": programme_id, "at": at, "actor": "Claire Dufour",
                              "action": "candidature.recevable", "entity": "application", "entity_id": 1,
                              "summary": "CU d'Arras : candidature recevable.", "details": {"siren": "200033579"}}
    engine = get_engine(url)
    offset = [10_000_000]

    def chained() -> None:
        for _ in range(entries):
            with Session(engine) as session:
                audit.record(session, **fields)
                session.commit()

    def plain() -> None:  # the same row as before the chain: no seq, no hash (a far chain: no clash)
        for _ in range(entries):
            offset[0] += 1
            with Session(engine) as session:
                session.add(AuditEntry(**fields, recorded_at=datetime.now(UTC), chain=-1, seq=offset[0]))
                session.commit()

    return in_turn({"chained": chained, "plain": plain}, rounds)


def replay_before_after(before: Path, rounds: int) -> dict[str, Measure]:
    """The 2015 replay with the code in `before`, then with this code, in turn (processes)."""
    from bench.run import processes_in_turn

    work = Path(tempfile.mkdtemp(prefix="transitions-bench-audit-"))
    env = {key: value for key, value in os.environ.items()
           if key not in ("DATABASE_URL", "OUTBOX_DIR", "DATA_DIR", "PORTAL_SECRET", "PYTHONPATH")}
    return processes_in_turn({
        "before": ([sys.executable, "-c", REPLAY, str(before), str(work / "before")], env),
        "chain": ([sys.executable, "-c", REPLAY, str(ROOT), str(work / "chain")], env),
    }, rounds)


def bench_audit(rounds: int, entries: int = 300, pg: str | None = None) -> list[tuple[str, Measure, Measure]]:
    """The figures: (database, chained, plain)."""
    found = []
    databases = [("SQLite", f"sqlite:///{Path(tempfile.mkdtemp(prefix='transitions-bench-audit-')) / 'a.db'}")]
    if pg:
        from sqlalchemy import create_engine, text

        with create_engine(pg).begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        databases.append(("PostgreSQL", pg))
    for name, url in databases:
        measured = record_against_insert(url, entries, rounds)
        found.append((name, measured["chained"], measured["plain"]))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--entries", type=int, default=300)
    parser.add_argument("--pg", default=None, help="a PostgreSQL URL whose database is emptied")
    parser.add_argument("--before", type=Path, default=None, help="the code before the chain (replay ratio)")
    args = parser.parse_args()
    for name, chained, plain in bench_audit(args.rounds, args.entries, args.pg):
        print(f"{name}: {args.entries} entries, one per transaction: chained {chained.wall:.3f} s "
              f"(cpu {chained.cpu:.3f}) vs plain insert {plain.wall:.3f} s (cpu {plain.cpu:.3f}): "
              f"ratio {chained.wall / plain.wall:.2f}x wall, {chained.cpu / plain.cpu:.2f}x cpu")
    if args.before:
        measured = replay_before_after(args.before.resolve(), args.rounds)
        before, after = measured["before"], measured["chain"]
        print(f"2015 replay: before {before.wall:.2f} s (cpu {before.cpu:.2f}) vs with the chain "
              f"{after.wall:.2f} s (cpu {after.cpu:.2f}): ratio {after.wall / before.wall:.3f}x wall, "
              f"{after.cpu / before.cpu:.3f}x cpu")


if __name__ == "__main__":
    main()
