"""Ticks while people use the portal (bench/load.py): as `transitions serve` would (at its flows'
priority, `transitions.processes.give_way_to_people`), a tick every
`every` seconds, each `step_hours` later in the programme's time than the previous, until SIGTERM
(the tick under way finishes first). One JSON line per tick on stdout: its instant, seconds,
changes, and its error if it failed.

Usage: `python bench/load_ticks.py URL START_ISO STEP_HOURS EVERY`.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> None:
    from config.settings import get_settings
    from flows.plain import run_tick_plain
    from transitions.processes import give_way_to_people

    give_way_to_people()  # the flows' priority, as `transitions serve` and the workers' units set it
    url, start, step, every = sys.argv[1], datetime.fromisoformat(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    settings = get_settings().model_copy(update={"database_url": url})
    instant = start
    while not stop.is_set():
        began = time.monotonic()
        record: dict[str, object] = {"at": instant.isoformat()}
        try:
            result = run_tick_plain(instant, settings=settings)
            record["changes"] = sum(result.changes.values())
            record["sent"] = result.delivery.sent
        except Exception as exc:  # reported by the bench as an error, the loop goes on
            record["error"] = f"{type(exc).__name__}: {exc}"[:500]
        record["seconds"] = round(time.monotonic() - began, 3)
        print(json.dumps(record), flush=True)
        instant += timedelta(hours=step)
        stop.wait(max(0.0, every - (time.monotonic() - began)))


if __name__ == "__main__":
    main()
