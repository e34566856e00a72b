"""The preview of a programme change (`transitions programme diff`) against a plain tick, at the
same size, measured in turn (issue 26).

Builds the national programme (`bench.national.build`) of `--pilots` pilots up to 2015-09-01, then,
`--rounds` times in turn: a plain tick at the programme's next planned instant, every stage run
(`flows.plain.run_tick_plain(…, every_stage=True)`, on a fresh copy of the database), and the
preview of a file moving `formation-2` by a week and extending phase 3 by a month (the programme's
future to its end replayed twice, rolled back). Prints the medians and their ratio.

    .venv/bin/python bench/programme_change.py --pilots 1000 --rounds 3
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlmodel import select  # noqa: E402

from bench.national import build  # noqa: E402
from models.clock import parse_instant  # noqa: E402
from models.db import dispose_engines, session_scope  # noqa: E402
from models.programme import ProgrammeDefinition  # noqa: E402
from models.schedule import next_due  # noqa: E402
from models.tables import Programme  # noqa: E402

REACHED = parse_instant("2015-09-01T00:00")


def changed(url: str) -> ProgrammeDefinition:
    """The stored definition, `formation-2` a week later and phase 3 a month longer."""
    with session_scope(url) as session:
        data = session.exec(select(Programme.definition)).one()
    for item in data["accompaniment"]["sessions"]:
        if item["key"] == "formation-2":
            item["at"] = "P3M1W"
    for item in data["accompaniment"]["phases"]:
        if item["key"] == "espace-innovation":
            item["end"] = "P8M"
    return ProgrammeDefinition.model_validate(data)


def main() -> None:
    from config.settings import get_settings, reset_settings
    from flows.plain import run_tick_plain
    from flows.programme_preview import preview_change
    from notifications.render import render_notice

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pilots", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-changement-"))
    built = work / "national.db"
    url = f"sqlite:///{built}"
    started = time.perf_counter()
    build(url, args.pilots, until=REACHED, step=parse_instant("2015-07-29T09:00") - parse_instant("2015-07-01T09:00"))
    print(f"built {args.pilots} pilots in {time.perf_counter() - started:.1f} s", flush=True)
    definition = changed(url)
    with session_scope(url) as session:
        following = next_due(session, REACHED)
    assert following is not None
    ticks: list[float] = []
    previews: list[float] = []
    for _ in range(args.rounds):
        copy = work / "tick.db"
        shutil.copyfile(built, copy)
        settings = get_settings().model_copy(update={"database_url": f"sqlite:///{copy}"})
        began = time.perf_counter()
        run_tick_plain(following, settings=settings, every_stage=True)
        ticks.append(time.perf_counter() - began)
        dispose_engines()
        began = time.perf_counter()
        preview = preview_change(url, definition, source="bench.yaml", templates={}, at=REACHED,
                                 renderer=render_notice)
        previews.append(time.perf_counter() - began)
        print(f"  tick {ticks[-1]:.2f} s, preview {previews[-1]:.2f} s ({len(preview.differences)} differences)",
              flush=True)
    tick, seen = statistics.median(ticks), statistics.median(previews)
    print(f"{args.pilots} pilots: plain tick (every stage) {tick:.2f} s, preview {seen:.2f} s, "
          f"ratio {seen / tick:.0f}x (median of {args.rounds}, in turn)")
    shutil.rmtree(work, ignore_errors=True)
    reset_settings()


if __name__ == "__main__":
    main()
