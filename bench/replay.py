"""Cost of one tick: the stages run as plain functions (baseline) vs through the Prefect flow.

Prints ratios against the baseline measured in the same run, since the machine is shared.
Usage: `make bench` (or `.venv/bin/python bench/replay.py [N]`).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

WORK = Path(tempfile.mkdtemp(prefix="transitions-bench-"))
os.environ.update({"DATABASE_URL": f"sqlite:///{WORK / 'bench.db'}", "OUTBOX_DIR": str(WORK / "outbox"),
                   "PREFECT_HOME": str(WORK / "prefect")})
os.environ.pop("PREFECT_API_URL", None)

from transitions.prefect_env import configure_prefect  # noqa: E402
from transitions.settings import get_settings  # noqa: E402

configure_prefect()

from flows.plain import run_tick_plain  # noqa: E402
from models.clock import parse_instant  # noqa: E402
from models.context import install_programme  # noqa: E402
from models.db import migrate, session_scope  # noqa: E402
from transitions.programmes import load_programme  # noqa: E402


def main(rounds: int) -> None:
    url = get_settings().database_url
    migrate(url)
    as_of = parse_instant("2015-04-10T09:00")
    with session_scope(url) as session:
        install_programme(session, load_programme(get_settings().programmes_dir / "cerdd-2015.yaml"), as_of, "bench")
    run_tick_plain(as_of)

    def plain() -> None:
        run_tick_plain(as_of)

    from transitions.runtime import replay_settings

    with replay_settings():
        from flows.tick import tick_flow

        tick_flow(as_of=as_of)  # warm-up: starts the temporary server
        baseline = _time(plain, rounds)
        flow = _time(lambda: tick_flow(as_of=as_of), rounds)
    print(f"tick at an idle instant, median of {rounds} runs")
    print(f"  stages as plain functions (baseline): {baseline * 1000:7.1f} ms   1.0x")
    print(f"  tick flow on Prefect (heartbeat off): {flow * 1000:7.1f} ms   {flow / baseline:.1f}x")


def _time(action, rounds: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
