"""Cost of one tick: the stages run as plain functions (baseline) vs through the Prefect flow.

Prints ratios against the baseline measured in the same run, in turn with it (plain, flow, plain,
flow…), wall and CPU, with the load average, since the machine is shared.
Usage: `.venv/bin/python bench/replay.py [N]` (not part of `make bench`, whose replay figure is the
whole `transitions demo` against Prefect's floor).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="transitions-bench-"))
os.environ.update({"DATABASE_URL": f"sqlite:///{WORK / 'bench.db'}", "OUTBOX_DIR": str(WORK / "outbox"),
                   "PREFECT_HOME": str(WORK / "prefect")})
os.environ.pop("PREFECT_API_URL", None)

from bench.timing import in_turn  # noqa: E402
from config.prefect_env import configure_prefect  # noqa: E402
from config.settings import get_settings  # noqa: E402

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
        measured = in_turn({"plain": plain, "flow": lambda: tick_flow(as_of=as_of)}, rounds)
    baseline, base_cpu, flow, flow_cpu = (measured["plain"].wall, measured["plain"].cpu, measured["flow"].wall,
                                          measured["flow"].cpu)
    loads = measured["plain"].loads + measured["flow"].loads
    print(f"tick at an idle instant, median of {rounds} runs in turn (plain, flow, plain, flow…), "
          f"load average {min(loads):.1f}–{max(loads):.1f}")
    print(f"  stages as plain functions (baseline): {baseline * 1000:7.1f} ms wall {base_cpu * 1000:7.1f} ms CPU"
          "   1.0x")
    print(f"  tick flow on Prefect (heartbeat off): {flow * 1000:7.1f} ms wall {flow_cpu * 1000:7.1f} ms CPU   "
          f"{flow / baseline:.1f}x wall, {flow_cpu / base_cpu:.1f}x CPU")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20)
