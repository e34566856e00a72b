"""`make bench`: every figure of issue 10 beside its floor measured in the same run, written to
bench/RESULTS.md (and bench/results.json).

Each figure is a record {"name", "value", "unit", "floor_name", "floor", "ratio", "target", "met",
"note"}; `bench/serve_tick.py --json`, when present, prints a list of the same records and is
folded in. A missed target gets a profile (function, share of the time, ours or a library's).

Usage: `.venv/bin/python bench/run.py [--rounds 3] [--pilots 100,1000] [--national-10000 PG_URL]
[--skip replay,smtp,...] [--only doors,...]`. The machine may be shared: compare ratios within one run.
`--national-10000 PG_URL` adds the ticks at 1,000 and 10,000 pilots on PostgreSQL (`bench_national_pg`:
100 pilots built through the product, multiplied with SQL by bench/multiply.py; 5–9 min on 2 shared
cores); `--pilots '' --skip submit,smtp,prefect,replay,status,serve,outbox` runs it alone.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="transitions-bench-run-"))
os.environ.update({"DATABASE_URL": f"sqlite:///{WORK / 'first.db'}", "OUTBOX_DIR": str(WORK / "outbox"),
                   "PREFECT_HOME": str(WORK / "prefect"), "NOTICE_CHANNEL": "file", "DATA_DIR": str(WORK)})
os.environ.pop("PREFECT_API_URL", None)
# As the product runs on a user's machine: Python caches bytecode (a shell that forbids it would make
# every cold process compile our ~55 modules again, ~50 ms of CPU on `transitions status`).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
from bench.timing import Measure, in_turn, load1  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def load_range(*measures: Measure) -> str:
    loads = [load for measure in measures for load in measure.loads]
    if not loads:
        return ""
    low, high = min(loads), max(loads)
    return f"{low:.1f}" if f"{low:.1f}" == f"{high:.1f}" else f"{low:.1f}–{high:.1f}"


NOT_IN_TURN = "ratio not published: its two sides were not measured in turn"


@dataclass
class Figure:
    """One measured figure beside its floor (same run), in the record shape serve_tick.py prints,
    plus the CPU side: `cpu` and `floor_cpu` in the figure's unit (seconds, or a throughput per CPU
    second), `cpu_ratio`, the load average seen while both were measured, and whether the two
    sides were measured in turn (`in_turn`): a ratio whose sides were not is not published."""

    name: str
    value: float
    unit: str
    floor_name: str | None = None
    floor: float | None = None
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""
    cpu: float | None = None
    floor_cpu: float | None = None
    cpu_ratio: float | None = None
    load: str = ""
    in_turn: bool = False

    @classmethod
    def against(cls, name: str, value: float, unit: str, floor_name: str, floor: float, *,
                limit: float | None = None, target: str = "", note: str = "", higher_is_better: bool = False,
                cpu: float | None = None, floor_cpu: float | None = None, load: str = "", in_turn: bool = False,
                cpu_judged: bool = True) -> Figure:
        """`in_turn` must be true for the ratios to be published (and the target judged): both
        sides sampled alternately in this run. With `cpu` (and `cpu_judged`), the target holds for
        both ratios; otherwise the CPU ratio is reported beside the wall one."""
        if not in_turn:
            note = f"{note}; {NOT_IN_TURN}" if note else NOT_IN_TURN
            return cls(name, value, unit, floor_name, floor, None, target, None, note, cpu, floor_cpu, None, load,
                       False)
        ratio = value / floor if floor else None
        cpu_ratio = cpu / floor_cpu if cpu is not None and floor_cpu else None
        met = None
        if limit is not None and ratio is not None:
            ratios = [ratio] + ([cpu_ratio] if cpu_ratio is not None and cpu_judged else [])
            met = all(r >= limit if higher_is_better else r <= limit for r in ratios)
        return cls(name, value, unit, floor_name, floor, ratio, target, met, note, cpu, floor_cpu, cpu_ratio, load,
                   True)

    @classmethod
    def measured(cls, name: str, side: Measure, floor_name: str, floor: Measure, *, count: int | None = None,
                 unit: str = "s", **options: Any) -> Figure:
        """A figure from two measures taken in turn: seconds, or with `count` a throughput (count
        per wall second, and per CPU second for the CPU side; higher is better)."""
        if count is None:
            return cls.against(name, side.wall, unit, floor_name, floor.wall, cpu=side.cpu, floor_cpu=floor.cpu,
                               load=load_range(side, floor), in_turn=True, **options)
        return cls.against(name, count / side.wall, unit, floor_name, count / floor.wall, cpu=count / side.cpu,
                           floor_cpu=count / floor.cpu, load=load_range(side, floor), in_turn=True,
                           higher_is_better=True, **options)


FIGURES: list[Figure] = []
PROFILES: dict[str, list[tuple[str, float, str]]] = {}
LOG: list[str] = []


def say(text: str) -> None:
    print(text, flush=True)
    LOG.append(text)


def median_time(action: Callable[[], Any], rounds: int, setup: Callable[[], Any] | None = None) -> float:
    """Median wall seconds of one action measured alone: for notes, never for a published ratio."""
    samples = []
    for _ in range(rounds):
        if setup is not None:
            setup()
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def owner(filename: str) -> str:
    if filename.startswith(str(ROOT)) and "site-packages" not in filename:
        return "ours"
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1].split("/", 1)[0].split(".", 1)[0]
    return "stdlib" if filename.startswith(sys.prefix) or "/lib/python" in filename else "other"


def profile(name: str, action: Callable[[], Any], setup: Callable[[], Any] | None = None) -> None:
    """The top functions of one run of `action`: own time share, and the cumulative share of our
    biggest functions (so the caller that is ours is named even when the time is a library's)."""
    if setup is not None:
        setup()
    profiler = cProfile.Profile()
    profiler.enable()
    action()
    profiler.disable()
    raw: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    PROFILES[name] = _rows(raw)


def _rows(raw: dict[Any, Any]) -> list[tuple[str, float, str]]:
    total = sum(entry[2] for entry in raw.values()) or 1.0
    rows: list[tuple[str, float, str]] = []
    by_own = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:6]
    for (filename, line, function), entry in by_own:
        rows.append((f"{Path(filename).name}:{line} {function} (own time)", entry[2] / total, owner(filename)))
    ours = [(key, entry) for key, entry in raw.items() if owner(key[0]) == "ours"
            and key[2] not in ("<module>", "<lambda>") and not key[0].endswith("bench/run.py")]
    for (filename, line, function), entry in sorted(ours, key=lambda item: item[1][3], reverse=True)[:6]:
        short = str(Path(filename).relative_to(ROOT)) if filename.startswith(str(ROOT)) else filename
        rows.append((f"{short}:{line} {function} (cumulative)", entry[3] / total, "ours"))
    return rows


def add(figure: Figure, action: Callable[[], Any] | None = None, setup: Callable[[], Any] | None = None) -> None:
    FIGURES.append(figure)
    ratio = f"{figure.ratio:.2f}x" if figure.ratio is not None else "-"
    cpu = (f"  cpu {figure.cpu:.4g} vs {figure.floor_cpu:.4g}"
           if figure.cpu is not None and figure.floor_cpu is not None else "")
    cpu_ratio = f" cpu {figure.cpu_ratio:.2f}x" if figure.cpu_ratio is not None else ""
    say(f"  {figure.name}: {figure.value:.4g} {figure.unit}  floor {figure.floor_name}: "
        f"{figure.floor if figure.floor is None else f'{figure.floor:.4g}'}{cpu}  ratio {ratio}{cpu_ratio}  "
        f"load {figure.load or '-'}  target {figure.target}  met {figure.met}"
        + ("" if figure.in_turn or figure.floor is None else "  (not in turn)"))
    if figure.met is False and action is not None:
        profile(figure.name, action, setup)


# --- the national programme --------------------------------------------------------------------

def use_database(url: str) -> None:
    from config.settings import reset_settings
    from models.db import dispose_engines

    dispose_engines()
    os.environ["DATABASE_URL"] = url
    reset_settings()


def due_floor(url: str, instant: datetime) -> Callable[[], Any]:
    """The floor of a tick: one SQL statement selecting what is due at `instant`, with nothing
    rendered or written: the stages with a planned instant since their programme's last tick (the
    statement `models.schedule.due_stages` runs, `due_query`, on the `planned_event` rows' index)
    and the notices waiting to leave (the delivery's claim, on the notice's (status, sending
    time) index), in one round trip."""
    from sqlalchemy import String, cast, literal, union_all
    from sqlmodel import col, select

    from models.db import get_engine
    from models.schedule import due_query
    from models.tables import Notice, NoticeStatus, Programme

    engine = get_engine(url)
    with engine.connect() as connection:
        ids = [row[0] for row in connection.execute(select(Programme.id)).all()]
    statement = union_all(due_query(instant, ids), select(literal("avis"), cast(Notice.id, String)).where(
        Notice.status == NoticeStatus.PENDING, col(Notice.deliver_after) <= instant))

    def query() -> Any:
        with engine.connect() as connection:
            return connection.execute(statement).all()
    return query


def planning(url: str) -> Callable[[], Any]:
    """Every stage's `planned` function for every programme: what `next_due` and the agenda did
    before the planned instants were stored (and what `record_tick` does after a busy tick)."""
    from sqlmodel import Session

    from models.context import all_ctx
    from models.db import get_engine
    from models.schedule import planned_by_stages

    def plan() -> Any:
        with Session(get_engine(url)) as session:
            return [row for ctx in all_ctx(session) for row in planned_by_stages(ctx)]
    return plan


def next_and_agenda(url: str, instant: datetime) -> Callable[[], Any]:
    """What a scheduled tick asks after its work: the next instant and the agenda's 10 instants."""
    from sqlmodel import Session

    from models.db import get_engine
    from models.schedule import agenda, next_due

    def ask() -> Any:
        with Session(get_engine(url)) as session:
            return next_due(session, instant), agenda(session, instant, limit=10)
    return ask


def copy_sqlite(source: Path, target: Path) -> None:
    """Replace `target` by a copy of the SQLite database `source`. Call it with no connection open
    on either (`models.db.dispose_engines`): closing the last connection to `source` checkpoints
    its write-ahead log into the file, which is all that is copied. A copy made while the source's
    engine was open missed what its last transactions wrote (the bench's warm ticks: the first busy
    tick ran on a programme never ticked)."""
    wal = source.parent / (source.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        raise RuntimeError(f"{source} has a write-ahead log not checkpointed: close its connections first")
    for suffix in ("", "-wal", "-shm"):
        (target.parent / (target.name + suffix)).unlink(missing_ok=True)
    shutil.copyfile(source, target)


@contextmanager
def portal_links() -> Iterator[None]:
    """Notices carry personal links to the portal, as in production (PORTAL_SECRET set): a random
    secret and an address for the duration, unless the environment sets them."""
    from config.settings import reset_settings

    before = {name: os.environ.get(name) for name in ("PORTAL_SECRET", "PORTAL_BASE_URL")}
    os.environ.setdefault("PORTAL_SECRET", secrets.token_urlsafe(48))
    os.environ.setdefault("PORTAL_BASE_URL", "https://portail.example.org")
    reset_settings()
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_settings()


def bench_national(sizes: list[int], rounds: int) -> dict[int, Path]:
    from bench.national import build
    from config.settings import get_settings
    from flows.plain import run_tick_plain
    from models.db import dispose_engines

    built: dict[int, Path] = {}
    instants: dict[int, datetime] = {}
    for size in sizes:
        path = WORK / f"national-{size}.db"
        say(f"building the national programme: {size} pilots (SQLite)")
        made = build(f"sqlite:///{path}", size, step=timedelta(days=28))
        built[size], instants[size] = path, made.reached
        say(f"  built in {made.seconds:.1f} s")
    urls = {size: f"sqlite:///{built[size]}" for size in sizes}
    use_database(urls[sizes[0]])
    settings = {size: get_settings().model_copy(update={"database_url": urls[size]}) for size in sizes}
    for size in sizes:
        run_tick_plain(instants[size], settings=settings[size])  # warm: nothing left to do at this instant
        run_tick_plain(instants[size], settings=settings[size])  # the first tick after the build ran every stage

    def tick_at(size: int) -> Callable[[], Any]:
        return lambda: run_tick_plain(instants[size], settings=settings[size])

    # Sub-millisecond figures: many rounds, every size's idle tick and floor in turn.
    actions: dict[str, Callable[[], Any]] = {}
    for size in sizes:
        actions |= {f"tick {size}": tick_at(size), f"floor {size}": due_floor(urls[size], instants[size]),
                    f"ask {size}": next_and_agenda(urls[size], instants[size])}
    idle = in_turn(actions, max(10 * rounds, 31))
    planned = {size: median_time(planning(urls[size]), rounds) for size in sizes}
    small, large = min(sizes), max(sizes)
    for size in sizes:
        add(Figure.measured(f"idle tick, {size} pilots", idle[f"tick {size}"], "indexed SQL query of what is due",
                            idle[f"floor {size}"], limit=5.0, target="≤ 5x the indexed SQL floor"),
            tick_at(size))
    for size in sizes:
        add(Figure.measured(f"next instant and agenda, {size} pilots", idle[f"ask {size}"],
                            "indexed SQL query of what is due", idle[f"floor {size}"], target="reported",
                            note=f"next_due and agenda(limit=10) read from planned_event, after an idle tick; "
                            f"planning every stage instead (as before, measured alone): {planned[size]:.3g} s"))
    if large != small:
        add(Figure.measured(f"idle tick, {large} vs {small} pilots", idle[f"tick {large}"],
                            f"idle tick, {small} pilots", idle[f"tick {small}"], limit=1.5, target="≤ 1.5x"))
    for size in sizes:
        # A busy tick: a week later, with everything due in between, on a fresh copy each round,
        # in turn with its floor (on a fresh copy too); notices carry their links, as in production.
        later = instants[size] + timedelta(days=7)
        work = WORK / f"busy-{size}.db"
        work_url = f"sqlite:///{work}"

        def fresh(path: Path = built[size], work: Path = work, work_url: str = work_url) -> None:
            dispose_engines()  # every connection closed (the source's log checkpointed) before the copy
            copy_sqlite(path, work)
            use_database(work_url)
            gc.collect()  # each side starts from a full collection, not with the other side's garbage to collect

        def busy_tick(later: datetime = later) -> None:
            run_tick_plain(later)

        with portal_links():
            fresh()
            busy_tick()  # unmeasured: how many notices the busy tick queues (the floor queues as many)
            queued = _notices_since(work_url, later)
            measured = in_turn({"tick": busy_tick, "floor": _render_and_queue(work_url, queued, later)},
                               max(rounds, 5), {"tick": fresh, "floor": fresh})
            add(Figure.measured(f"busy tick, {size} pilots ({queued} notices queued)", measured["tick"],
                                f"rendering and queueing {queued} notices alone", measured["floor"], limit=2.0,
                                target="≤ 2x", note="a week after the last tick; fresh copy of the database each "
                                "round; notices with their portal links (PORTAL_SECRET set), tick and floor alike"),
                busy_tick, fresh)
    use_database(urls[large])
    return built


def _reached(size: int, built: dict[int, Path]) -> datetime:
    from sqlmodel import Session, col, func, select

    from models.db import get_engine
    from models.tables import Programme

    url = f"sqlite:///{built[size]}"
    use_database(url)
    with Session(get_engine(url)) as session:
        reached = session.exec(select(func.max(col(Programme.last_tick_at)))).one()
    return reached or datetime(2015, 12, 1, tzinfo=UTC)


def _notices_since(url: str, instant: datetime) -> int:
    from sqlmodel import Session, col, func, select

    from models.db import get_engine
    from models.tables import Notice

    with Session(get_engine(url)) as session:
        return int(session.exec(select(func.count()).select_from(Notice)
                                .where(col(Notice.created_at) >= instant)).one())


def _render_and_queue(url: str, count: int, instant: datetime) -> Callable[[], Any]:
    """Floor of a busy tick: render and queue `count` deliverable reminders (one transaction), nothing else,
    in the database `url` (restored by the caller before each round)."""
    from sqlmodel import select

    from models.context import load_ctx
    from models.db import session_scope
    from models.notices import NoticeKind, Recipient
    from models.tables import Deliverable, Pilot
    from notifications.render import portal_linker, render_notice

    count = max(count, 1)

    def queue() -> None:
        with session_scope(url) as session:
            ctx = load_ctx(session, renderer=render_notice, linker=portal_linker())
            rows = session.exec(select(Deliverable, Pilot).join(Pilot).limit(count)).all()
            for index in range(count):
                deliverable, pilot = rows[index % len(rows)]
                ctx.notify(NoticeKind.DELIVERABLE_REMINDER,
                           [Recipient(f"p{index}@example.org", f"Personne {index}")],
                           key=f"floor-{index}", context={"pilote": pilot, "livrable": deliverable}, at=instant)
    return queue


def bench_prefect_tick(built: dict[int, Path], rounds: int) -> None:
    """The tick flow through Prefect against the same stages as plain functions (idle), in turn."""
    from flows.plain import run_tick_plain
    from transitions.runtime import replay_settings

    size = min(built)
    instant = _reached(size, built)
    with replay_settings():
        from flows.tick import tick_flow

        tick_flow(as_of=instant)  # warm-up: starts the temporary server
        measured = in_turn({"flow": lambda: tick_flow(as_of=instant), "plain": lambda: run_tick_plain(instant)},
                           rounds)
        add(Figure.measured(f"idle tick through Prefect, {size} pilots", measured["flow"],
                            "same stages as plain functions", measured["plain"], target="reported",
                            note="bench/replay.py measures the same on the 2015 programme"))
        if measured["flow"].wall / measured["plain"].wall > 3:
            profile(f"idle tick through Prefect, {size} pilots", lambda: tick_flow(as_of=instant))


# --- processes: replay, Prefect's floor, cold status --------------------------------------------

def _descendants_rss(root: int) -> int:
    """Resident memory (KiB) of `root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            status = (entry / "status").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss[int(entry.name)] = int(line.split()[1])
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run_process(argv: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
                ) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds (user + system of the process and of every child it waited for,
    e.g. Prefect's temporary server, from wait4) and peak resident memory (MiB, the process and its
    children summed, sampled every 50 ms) of one command; raises if it fails."""
    start = time.perf_counter()
    process = subprocess.Popen(argv, env=env or ENV, cwd=cwd or WORK, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    output = bytearray()
    reader = threading.Thread(target=lambda: output.extend(process.stdout.read() if process.stdout else b""),
                              daemon=True)
    reader.start()
    peak = 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid == process.pid:
            break
        peak = max(peak, _descendants_rss(process.pid))
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    reader.join(timeout=10)
    if process.returncode != 0:
        raise RuntimeError(f"{argv} failed ({process.returncode}):\n{output.decode('utf-8', 'replace')[-3000:]}")
    return elapsed, usage.ru_utime + usage.ru_stime, peak / 1024


def processes_in_turn(commands: dict[str, tuple[list[str], dict[str, str]]], rounds: int) -> dict[str, Measure]:
    """Each command run once per round, in turn (A, B, A, B…); medians of wall, CPU (children
    included) and peak memory, the load average read before each run."""
    samples: dict[str, list[tuple[float, float, float]]] = {name: [] for name in commands}
    loads: dict[str, list[float]] = {name: [] for name in commands}
    for index in range(max(rounds, 3)):
        for name, (argv, env) in commands.items():
            loads[name].append(load1())
            samples[name].append(run_process(argv, env))
            wall, cpu, peak = samples[name][-1]
            say(f"  {name}, run {index + 1}: wall {wall:.2f} s, cpu {cpu:.2f} s, peak {peak:.0f} MiB, "
                f"load {loads[name][-1]:.2f}")
    return {name: Measure(statistics.median(s[0] for s in values), statistics.median(s[1] for s in values),
                          loads[name], len(values), statistics.median(s[2] for s in values))
            for name, values in samples.items()}


def transitions_argv(*args: str) -> list[str]:
    return [sys.executable, "-c", "import sys; from transitions.cli import main; sys.argv[0] = 'transitions'; main()",
            *args]


PREFECT_FLOOR = """
import sys
from pathlib import Path
from config.prefect_env import use_demo_folder
use_demo_folder(Path(sys.argv[1]))  # as `transitions demo` does: same function, same folder, same home
from transitions.runtime import replay_settings
with replay_settings():
    from prefect import flow

    @flow(name="plancher")
    def empty() -> None:
        return None

    empty()
"""


def bench_replay(rounds: int) -> None:
    """`transitions demo` against Prefect's floor (its temporary server and one empty flow run),
    both in a new process on the same demo folder (`config.prefect_env.use_demo_folder`: the
    same Prefect home, kept from run to run as the demo keeps it), run in turn after one unmeasured
    run of each (which creates the home, as a first demo does)."""
    demo_out = WORK / "demo"
    demo = transitions_argv("demo", "--out", str(demo_out), "--replace")
    floor = [sys.executable, "-c", PREFECT_FLOOR, str(demo_out)]
    for argv in (demo, floor):
        run_process(argv)  # the home created and migrated, as by a first demo
    measured = processes_in_turn({"replay": (demo, ENV), "floor": (floor, ENV)}, rounds)
    replay, base = measured["replay"], measured["floor"]
    notes = _outbox_summary(demo_out / "transitions.db")
    add(Figure.measured("2015 replay (transitions demo)", replay,
                        "Prefect's floor: temporary server + one empty flow, same Prefect home", base, limit=2.0,
                        target="≤ 2x (wall and CPU)", note=notes + "; CPU includes the temporary server's"))
    assert replay.peak is not None and base.peak is not None
    add(Figure.against("2015 replay, peak memory (server included)", replay.peak, "MiB",
                       "Prefect's floor, peak memory", base.peak, limit=1.5, target="≤ 1.5x",
                       load=load_range(replay, base), in_turn=True))
    ratios = (replay.wall / base.wall, replay.cpu / base.cpu)
    if max(ratios) > 2.0:
        profile_process("2015 replay (transitions demo)", demo, ENV)


def profile_process(name: str, argv: list[str], env: dict[str, str]) -> None:
    """One cProfile of a command `transitions_argv` builds, in the same rows as `profile` (the
    client process only: the temporary server's own work is another process)."""
    out, script = WORK / "process.prof", WORK / "profiled_main.py"
    script.write_text(argv[2] + "\n", encoding="utf-8")  # cProfile runs a file or a module, not `-c`
    subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), str(script), *argv[3:]], env=env, cwd=WORK,
                   capture_output=True, check=False)
    if not out.exists():
        return
    raw: dict[Any, Any] = pstats.Stats(str(out)).stats  # type: ignore[attr-defined]
    PROFILES[name] = _rows(raw)


def _outbox_summary(path: Path) -> str:
    import sqlite3

    with sqlite3.connect(path) as connection:
        notices = connection.execute("SELECT count(*) FROM notice").fetchone()[0]
        singles = connection.execute("SELECT count(*) FROM notice WHERE digest_id IS NULL").fetchone()[0]
        digests = connection.execute("SELECT count(DISTINCT digest_id) FROM notice").fetchone()[0]
        pilots = connection.execute("SELECT name, status FROM pilot ORDER BY name").fetchall()
    eml = len(list((path.parent / "outbox").glob("*.eml")))
    return (f"{notices} notices in {singles + digests} messages ({eml} .eml files); pilots: "
            + ", ".join(f"{name} {status}" for name, status in pilots))


def bench_status_cold(demo_db: Path, rounds: int) -> None:
    env = {**ENV, "DATABASE_URL": f"sqlite:///{demo_db}"}
    argv = transitions_argv("status", "--at", "2015-09-01T09:00")
    run_process(argv, env)  # file cache warm
    measured = processes_in_turn({"status": (argv, env), "python -c pass": ([sys.executable, "-c", "pass"], env)},
                                 rounds)
    figure = Figure.measured("transitions status, cold process", measured["status"], "python -c pass",
                             measured["python -c pass"], target="≤ 1 s CPU", note="the 2015 demo's database")
    figure.met = measured["status"].cpu <= 1.0
    add(figure)
    if not figure.met:
        out, script = WORK / "status.prof", WORK / "status_main.py"
        script.write_text(argv[2] + "\n", encoding="utf-8")
        subprocess.run([sys.executable, "-m", "cProfile", "-o", str(out), str(script), *argv[3:]], env=env,
                       cwd=WORK, capture_output=True, check=False)
        if out.exists():
            stats = pstats.Stats(str(out))
            raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
            total = max(entry[3] for entry in raw.values()) or 1.0
            imports = [(key, entry) for key, entry in raw.items() if key[2] == "<module>"]
            rows = sorted(imports, key=lambda item: item[1][3], reverse=True)[:8]
            PROFILES[figure.name] = [(f"import {Path(k[0]).parent.name}/{Path(k[0]).name}", e[3] / total, owner(k[0]))
                                     for k, e in rows]


# --- submit, delivery ----------------------------------------------------------------------------

def installed_2015(name: str) -> str:
    """A new SQLite database under WORK with the 2015 programme installed (its call not yet open),
    made the process's database; its URL."""
    from models.clock import parse_instant
    from models.context import install_programme
    from models.db import migrate, session_scope
    from transitions.programmes import load_programme

    url = f"sqlite:///{WORK / name}"
    use_database(url)
    migrate(url)
    with session_scope(url) as session:
        install_programme(session, load_programme(ROOT / "programmes" / "cerdd-2015.yaml"),
                          parse_instant("2015-04-01T09:00"), "bench")
    return url


def bench_submit(rounds: int) -> None:
    from models.clock import parse_instant
    from transitions.intake import read_application, submit_form

    url = installed_2015("submit.db")
    path = ROOT / "examples" / "candidature-cu-arras.yaml"
    instant = parse_instant("2015-04-20T10:00")
    read_application(path)
    submit_form(url, read_application(path), instant, None)  # warm
    measured = in_turn({"submit": lambda: submit_form(url, read_application(path), instant, None),
                        "floor": lambda: read_application(path)}, max(rounds, 5))
    add(Figure.measured("submit (an application file, in process)", measured["submit"],
                        "parse + validate the same file (read_application)", measured["floor"], limit=2.0,
                        target="≤ 2x", note="each round a new version of the same application"),
        lambda: submit_form(url, read_application(path), instant, None))


DOORS_SECRET = "Bq4Xv8Lm2Tz6Wr9Kp3Nc7Hd1Jf5Gs0Ya8Ue2Ko"
"""The portal's secret in the doors' figure (its links and form tokens)."""


def bench_doors(rounds: int) -> None:
    """Issue 22's doors for the same application (the Arras example), each round a new version:
    an online deposit (the portal's POST of « Déposer » in process through the ASGI app, on a draft
    already saved with its files) and a mailed annex (one Maildir message read by `read_mailbox`:
    parse, read the annex, submit, move), each against `submit_form` of the same content from its
    YAML file (read and validated, then recorded), the three measured in turn in this run."""
    from fastapi.testclient import TestClient

    from documents.annex import read_annex
    from flows.mailbox import read_mailbox
    from models import drafts
    from models.clock import parse_instant
    from models.context import load_ctx
    from models.db import session_scope
    from models.links import form_token, issue_link
    from transitions.demo_doors import application_mail, deliver_mail, deposit_online, mailbox_settings
    from transitions.intake import Submission, read_application, submit_form
    from transitions.portal.app import create_app

    url = installed_2015("doors.db")
    path = ROOT / "examples" / "candidature-cu-arras.yaml"
    received = read_application(path)
    siren, contact = received.form.collectivite_chef_de_file.siren, received.form.responsables_operationnels[0].courriel
    instant = parse_instant("2015-04-20T10:00")
    now = [instant]  # one clock for the three doors: a version is never older than the one before it

    def advance() -> None:
        now[0] += timedelta(seconds=1)

    deposit_online(url, received, instant)  # the draft started, saved, its files attached, deposited once
    bearer = drafts.applicant_bearer(siren, contact)
    with session_scope(url) as session:
        link = issue_link(load_ctx(session), bearer, secret=DOORS_SECRET, at=instant, days=365)
    client = TestClient(create_app(url, DOORS_SECRET, clock=lambda: now[0]), follow_redirects=False)
    maildir, count = WORK / "courriels", iter(range(1, 10_000))
    posted: dict[str, str] = {}

    def changed() -> Submission:  # a new content each time: each deposit records a new version
        form = received.form.model_copy(update={"motivations": f"{received.form.motivations} ({next(count)})"})
        return Submission(form, received.pieces)

    def save_draft() -> None:
        advance()
        with session_scope(url) as session:
            ctx = load_ctx(session)
            drafts.save(ctx, drafts.find_draft(ctx, siren), changed().form.model_dump(
                mode="json", exclude={"formulaire", "documents_complementaires"}), at=now[0], by="bench")
        posted["jeton"] = form_token(DOORS_SECRET, bearer, "deposer", now[0])

    def deposit() -> None:
        response = client.post(f"/l/{link}/candidat/{siren}/deposer", data=posted)
        assert response.status_code == 303 and "fait=depose" in response.headers["location"], response.text

    def mail_one() -> None:
        advance()  # the arrival, read at that instant (its Message-ID follows the arrival)
        deliver_mail(maildir, application_mail(url, changed(), now[0], "transitions@cerdd.org"), now[0])

    def read_one() -> None:
        report = read_mailbox(url, at=now[0], settings=mailbox_settings(maildir), reader=read_annex)
        assert report.outcomes == {"candidature": 1}, report.summary()

    def floor() -> None:
        submit_form(url, read_application(path), now[0], None)

    for setup, action in ((save_draft, deposit), (mail_one, read_one), (advance, floor)):  # warm
        setup()
        action()
    measured = in_turn({"online": deposit, "mail": read_one, "submit": floor}, max(rounds, 5),
                       setups={"online": save_draft, "mail": mail_one, "submit": advance})
    floor_name = "submit_form of the same application from its YAML (read, validate, record)"
    note = ("the Arras example; each round a new version by each door; the three sides measured in turn "
            "(online, mail, submit); setups not measured: the draft saved with one changed answer and a form "
            "token minted, the mail built with the filled annex and delivered into the Maildir")
    add(Figure.measured("online deposit (POST « Déposer », ASGI in process)", measured["online"], floor_name,
                        measured["submit"], target="reported", note=note))
    add(Figure.measured("mailed annex (one Maildir message read by read_mailbox)", measured["mail"], floor_name,
                        measured["submit"], target="reported", note=note))
    client.close()


SMTP_SERVER = """
import sys, time
from aiosmtpd.controller import Controller

class Count:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

controller = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
"""


def bench_delivery(count: int, rounds: int) -> None:
    import smtplib

    from sqlmodel import Session, delete

    from config.settings import get_settings, reset_settings
    from models.clock import parse_instant
    from models.context import install_programme, load_ctx
    from models.db import get_engine, migrate, session_scope
    from models.notices import NoticeKind, Recipient
    from models.tables import Notice
    from notifications.deliver import deliver_due
    from notifications.render import portal_linker, render_notice
    from notifications.routing import from_settings
    from transitions.programmes import load_programme

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = subprocess.Popen([sys.executable, "-c", SMTP_SERVER, str(port)], env=ENV, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE)
    assert server.stdout is not None
    server.stdout.readline()
    try:
        url = f"sqlite:///{WORK / 'delivery.db'}"
        os.environ.update({"NOTICE_CHANNEL": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(port)})
        use_database(url)
        migrate(url)
        at = parse_instant("2015-04-20T09:00")
        with session_scope(url) as session:
            install_programme(session, load_programme(ROOT / "programmes" / "cerdd-2015.yaml"), at, "bench")

        def queue() -> None:
            with session_scope(url) as session:
                session.exec(delete(Notice))  # type: ignore[call-overload]
                ctx = load_ctx(session, renderer=render_notice, linker=portal_linker())
                for index in range(count):
                    ctx.notify(NoticeKind.CALL_LAUNCHED, [Recipient(f"epci{index}@example.org", f"EPCI {index}")],
                               key=f"bench-{index}", context={}, at=at)

        def deliver() -> None:
            channels, policy = from_settings(get_settings())
            with Session(get_engine(url), expire_on_commit=False) as session:
                report = deliver_due(session, as_of=at, channels=channels, policy=policy)
            assert report.sent == count, report

        # The very bytes the product sends, recorded from one unmeasured delivery (envelope too).
        sent: list[tuple[str, list[str], bytes]] = []
        original = smtplib.SMTP.sendmail

        def record(client: smtplib.SMTP, from_addr: str, to_addrs: Any, msg: Any, *args: Any, **kwargs: Any) -> Any:
            sent.append((from_addr, list(to_addrs), bytes(msg)))
            return original(client, from_addr, to_addrs, msg, *args, **kwargs)

        queue()
        smtplib.SMTP.sendmail = record  # type: ignore[method-assign, assignment]
        try:
            deliver()
        finally:
            smtplib.SMTP.sendmail = original  # type: ignore[method-assign]
        assert len(sent) == count, len(sent)

        def sendmail_floor() -> None:
            with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
                for from_addr, to_addrs, data in sent:
                    client.sendmail(from_addr, to_addrs, data)

        measured = in_turn({"deliver": deliver, "floor": sendmail_floor}, rounds, {"deliver": queue})
        add(Figure.measured(f"delivery over SMTP, {count} notices", measured["deliver"],
                            "raw smtplib, one connection: sendmail of the bytes the product sends", measured["floor"],
                            count=count, unit="notices/s", limit=0.7, target="≥ 0.7x (wall)", cpu_judged=False,
                            note="aiosmtpd on loopback in its own process, the same for both; throughput ratio; "
                                 "CPU: notices per CPU second of this process, reported (the floor's client only "
                                 "writes bytes and waits for the server)"),
            deliver, queue)
    finally:
        for key in ("SMTP_HOST", "SMTP_PORT"):
            os.environ.pop(key, None)
        os.environ["NOTICE_CHANNEL"] = "file"
        reset_settings()
        if server.stdin:
            server.stdin.close()
        server.wait(timeout=10)


# --- other scripts -------------------------------------------------------------------------------

def bench_serve_tick() -> None:
    script = BENCH / "serve_tick.py"
    if not script.exists():
        say("  bench/serve_tick.py absent: skipped")
        return
    done = subprocess.run([sys.executable, str(script), "--json"], env=ENV, cwd=ROOT, capture_output=True,
                          text=True, timeout=600, check=False)
    if done.returncode != 0:
        FIGURES.append(Figure("bench/serve_tick.py", float("nan"), "", note=f"failed: {done.stderr[-300:]}"))
        return
    text = done.stdout.strip()
    records = json.loads(text if text.startswith("[") else text.splitlines()[-1])  # the JSON list, or its last line
    fields = set(Figure.__dataclass_fields__)
    for record in records:
        figure = Figure(**{key: value for key, value in record.items() if key in fields})
        if figure.floor is not None:  # serve_tick.py measures each side in its own series: no ratio
            figure.ratio = None
            figure.note = f"{figure.note}; {NOT_IN_TURN}" if figure.note else NOT_IN_TURN
        add(figure)


def bench_outbox_script() -> None:
    done = subprocess.run([sys.executable, str(BENCH / "outbox.py"), "1000"], env=ENV, cwd=ROOT,
                          capture_output=True, text=True, timeout=600, check=False)
    LOG.append("bench/outbox.py 1000:\n" + (done.stdout or done.stderr[-1000:]))


# --- the results file ----------------------------------------------------------------------------

def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    return (f"{platform.node()}: {platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), "
            f"Python {platform.python_version()}, load average at start {load[0]:.2f}")


def fmt(value: float | None) -> str:
    if value is None:
        return "–"
    if value != value:  # NaN
        return "–"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def write_results(started: datetime, seconds: float, rounds: int, load_at_start: str, out: Path) -> None:
    lines = [
        "# Benchmark results (`make bench`)",
        "",
        f"- Machine: {load_at_start}.",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC; the whole run took {seconds / 60:.1f} min; timings are the "
        f"median of {rounds} runs unless noted.",
        "- The machine is shared with other work (2 cores, other builds running): absolute times vary, "
        "compare each figure with its floor, measured in the same run.",
        "",
        "Wall and CPU are medians of runs taken in turn with the floor (A, B, A, B…); CPU is user + system "
        "time (for a subprocess, its children's included; for a throughput, notices per CPU second). Load is "
        "the 1-minute load average read before each of those runs (2 cores). A ratio whose two sides were "
        "not measured in turn is not published (–).",
        "",
        "| figure | value (wall) | CPU | floor | floor value (wall) | floor CPU | ratio (wall) | CPU ratio | load "
        "| target | met |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in FIGURES:
        met = {True: "yes", False: "**no**", None: "–"}[f.met]
        lines.append(f"| {f.name} | {fmt(f.value)} {f.unit} | {fmt(f.cpu)} | {f.floor_name or '–'} | {fmt(f.floor)} | "
                     f"{fmt(f.floor_cpu)} | {fmt(f.ratio) + 'x' if f.ratio is not None else '–'} | "
                     f"{fmt(f.cpu_ratio) + 'x' if f.cpu_ratio is not None else '–'} | {f.load or '–'} | "
                     f"{f.target} | {met} |")
    notes = [f for f in FIGURES if f.note]
    if notes:
        lines += ["", "Notes:", ""] + [f"- {f.name}: {f.note}" for f in notes]
    if PROFILES:
        lines += ["", "## Where the time goes (targets missed)", ""]
        for name, rows in PROFILES.items():
            lines += [f"### {name}", "", "| function | share | whose |", "| --- | --- | --- |"]
            lines += [f"| `{function}` | {share:.0%} | {whose} |" for function, share, whose in rows]
            lines.append("")
    lines += ["", "## Log", "", "```", *LOG, "```", ""]
    out.write_text("\n".join(lines), encoding="utf-8")
    (out.parent / "results.json").write_text(json.dumps([asdict(f) for f in FIGURES], indent=1) + "\n",
                                             encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description="Every figure of issue 10 against its floor.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pilots", default="100,1000", help="sizes of the national programme (SQLite)")
    parser.add_argument("--national-10000", metavar="PG_URL", default=None,
                        help="also the idle and busy ticks at 1,000 and 10,000 pilots on this PostgreSQL "
                             "(its database is emptied; about 2 more minutes)")
    parser.add_argument("--skip", default="", help="comma-separated: national,national-pg,pages,prefect,replay,"
                                                  "status,submit,doors,smtp,serve,outbox,audit")
    parser.add_argument("--only", default="", help="comma-separated: only these steps (same names as --skip; "
                                                  "`load`, 10–20 min, runs only when named here)")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    started = datetime.now(UTC)
    begin = time.perf_counter()
    load = machine()
    say(load)
    from config.prefect_env import configure_prefect

    configure_prefect()
    built: dict[int, Path] = {}
    steps: list[tuple[str, Callable[[], Any]]] = []
    sizes = [int(s) for s in args.pilots.split(",") if s]

    steps.append(("national", lambda: built.update(bench_national(sizes, args.rounds)) if sizes else None))
    if args.national_10000:
        steps.append(("national-pg", lambda: bench_national_pg(args.national_10000, args.rounds)))
    steps.append(("pages", lambda: bench_portal_pages(built, sizes, args.rounds)))
    steps.append(("submit", lambda: bench_submit(args.rounds)))
    steps.append(("doors", lambda: bench_doors(args.rounds)))
    steps.append(("smtp", lambda: bench_delivery(500, args.rounds)))
    steps.append(("prefect", lambda: bench_prefect_tick(built, args.rounds) if built else None))
    steps.append(("replay", lambda: bench_replay(args.rounds)))
    steps.append(("status", lambda: bench_status_cold(WORK / "demo" / "transitions.db", args.rounds)
                  if (WORK / "demo" / "transitions.db").exists() else say("  no demo database: skipped")))
    steps.append(("serve", bench_serve_tick))
    steps.append(("outbox", bench_outbox_script))
    steps.append(("audit", lambda: bench_audit_chain(args.rounds)))
    steps.append(("load", bench_portal_load))
    only = set(filter(None, args.only.split(",")))
    for name, step in steps:
        if name in skip or (only and name not in only) or (name in OPT_IN and name not in only):
            continue
        say(f"== {name} ({(time.perf_counter() - begin) / 60:.1f} min)")
        try:
            step()
        except Exception as exc:  # a broken step is reported, the others still run
            import traceback

            say(f"  {name} failed: {exc!r}")
            LOG.append(traceback.format_exc()[-2000:])
        write_results(started, time.perf_counter() - begin, args.rounds, load, args.out)
    write_results(started, time.perf_counter() - begin, args.rounds, load, args.out)
    say(f"results in {args.out} ({(time.perf_counter() - begin) / 60:.1f} min)")
    shutil.rmtree(WORK, ignore_errors=True)


def bench_portal_pages(built: dict[int, Path], sizes: list[int], rounds: int) -> None:
    """Each bearer's portal page on the national programmes (bench/pages.py): the territory's page
    at each size in turn with a bare FastAPI endpoint, every page's size at the largest. Builds
    the programmes when the `national` step did not run."""
    from bench.national import build
    from bench.pages import PAGE_LIMIT_KB, measure_pages

    for size in sizes:
        if size not in built:
            say(f"building the national programme: {size} pilots (SQLite)")
            path = WORK / f"national-{size}.db"
            build(f"sqlite:///{path}", size, step=timedelta(days=28))
            built[size] = path
    measured, weights = measure_pages({size: built[size] for size in sizes}, WORK, rounds)
    bare = "bare FastAPI endpoint (same size, no database)"
    for size in sizes:
        add(Figure.measured(f"territory page, {size} pilots", measured[f"territoire {size}"], bare, measured["nu"],
                            target="reported", note="in process (TestClient), SQLite: link checked, pilot found, "
                            "its year read, the page rendered"))
    small, large = min(sizes), max(sizes)
    if large != small:
        add(Figure.measured(f"territory page, {large} vs {small} pilots", measured[f"territoire {large}"],
                            f"territory page, {small} pilots", measured[f"territoire {small}"], limit=1.5,
                            target="≤ 1.5x", note="the same page (one pilot's year) at both sizes, in turn"))
    for name, kb in weights.items():
        add(Figure(f"page size: {name}, {large} pilots", kb, "KB", target=f"≤ {PAGE_LIMIT_KB:.0f} KB",
                   met=kb <= PAGE_LIMIT_KB, note="a list's first page"))


OPT_IN = {"load"}
"""Steps run only when `--only` names them: longer than `make bench`'s budget."""


def bench_portal_load() -> None:
    """The portal under load (bench/load.py, its default sizes, PostgreSQL from TEST_DATABASE_URL):
    its report in bench/RESULTS-load.md, its judged figures here."""
    from bench.load import bench_load, parser

    _, figures = bench_load(parser().parse_args([]))
    for figure in figures:
        add(Figure(figure["name"], float(figure["value"]), "x" if "÷" in figure["name"] or "vs" in figure["name"]
                   else "count", target=figure["target"], met=figure["met"],
                   note="bench/load.py: the real portal (2 workers, PostgreSQL), people acting while ticks run; "
                        "the floor (a bare FastAPI endpoint) measured in turn; details in bench/RESULTS-load.md"))


def bench_audit_chain(rounds: int) -> None:
    """One act's audit entry chained against a plain insert of the same row (bench/audit.py)."""
    from bench.audit import bench_audit

    for database, chained, plain in bench_audit(rounds):
        add(Figure.measured(f"audit entry chained ({database}, 300 transactions)", chained,
                            "plain insert of the same row", plain,
                            note="models.audit.record: chain lock, head read, two SHA-256"))


PG_BASE = 100
"""Pilots built through the product's functions before `bench.multiply` copies them (x10, x10)."""


def _pg_database(url: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _pg_clone(url: str, target: str) -> str:
    """A fresh copy of the database of `url` named `target` (CREATE DATABASE … TEMPLATE, file
    copy); returns its URL. Every connection to the source is closed first."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from models.db import dispose_engines

    dispose_engines()
    admin = create_engine(_pg_database(url, "postgres"), isolation_level="AUTOCOMMIT")
    source = make_url(url).database
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{target}"'))
            connection.execute(text(f'CREATE DATABASE "{target}" TEMPLATE "{source}" STRATEGY FILE_COPY'))
    finally:
        admin.dispose()
    return _pg_database(url, target)


def _pg_drop(url: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    from models.db import dispose_engines

    dispose_engines()
    admin = create_engine(_pg_database(url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


def bench_national_pg(url: str, rounds: int) -> None:
    """Idle and busy ticks at 1,000 and 10,000 pilots on PostgreSQL, each beside its floor.

    The programme is built through the product's functions at PG_BASE pilots (sized for 10,000),
    then multiplied with set-based SQL (bench/multiply.py): x10, busy tick measured, a copy of the
    database kept, x10 again, busy tick measured; then the idle ticks of both sizes and their
    floors, interleaved. tests/flows/test_multiplied_programme.py checks that a multiplied
    programme ticks like one the product built. The database of `url` is emptied; copies named
    after it (`…_busy`, `…_1000`) are dropped at the end."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from bench.multiply import multiply
    from bench.national import build
    from config.settings import get_settings
    from flows.plain import run_tick_plain
    from models.db import get_engine

    with get_engine(url).begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    say(f"building the national programme: {PG_BASE} pilots through the product, sized for 10000 (PostgreSQL)")
    made = build(url, PG_BASE, step=timedelta(days=28), capacity=10_000)
    say(f"  built in {made.seconds:.1f} s")
    name = make_url(url).database
    busy_name, small_name = f"{name}_busy", f"{name}_1000"
    busy_url = _pg_database(url, busy_name)
    instant, later = made.reached, made.reached + timedelta(days=7)
    sizes = (1_000, 10_000)
    urls = {sizes[0]: _pg_database(url, small_name), sizes[1]: url}
    pilots = PG_BASE
    try:
        for size in sizes:
            grown = multiply(url, size // pilots)
            pilots = grown.pilots
            say(f"  multiplied to {grown.pilots} pilots, {grown.applications} applications "
                f"({grown.rows} rows) in {grown.seconds:.1f} s")
            use_database(url)
            run_tick_plain(instant)  # nothing left to do at this instant (checked by the idle figures below)
            if size == sizes[0]:
                _pg_clone(url, small_name)

            def fresh() -> None:
                _pg_clone(url, busy_name)
                use_database(busy_url)

            def profiled() -> None:
                run_tick_plain(later)

            with portal_links():
                fresh()
                profiled()  # unmeasured: how many notices the busy tick queues (the floor queues as many)
                queued = _notices_since(busy_url, later)
                measured = in_turn({"tick": profiled, "floor": _render_and_queue(busy_url, queued, later)}, rounds,
                                   {"tick": fresh, "floor": fresh})
                add(Figure.measured(f"busy tick, {size} pilots ({queued} notices queued, PostgreSQL)", measured["tick"],
                                    f"rendering and queueing {queued} notices alone", measured["floor"], limit=2.0,
                                    target="≤ 2x", note=f"a week after the last tick; fresh copy of the database each "
                                    f"round; notices with their portal links (PORTAL_SECRET set), tick and floor "
                                    f"alike; {PG_BASE} pilots built through the product, multiplied with SQL; CPU "
                                    "of this process only (not PostgreSQL's)"),
                    profiled if size == sizes[0] else None, fresh)  # a missed target: the smaller one profiled
            _pg_drop(url, busy_name)
        use_database(url)
        settings = {size: get_settings().model_copy(update={"database_url": urls[size]}) for size in sizes}
        for size in sizes:
            run_tick_plain(instant, settings=settings[size])  # warm each engine
        def tick_at(size: int) -> Callable[[], Any]:
            return lambda: run_tick_plain(instant, settings=settings[size])

        idle = in_turn({**{f"tick {size}": tick_at(size) for size in sizes},
                        **{f"floor {size}": due_floor(urls[size], instant) for size in sizes}}, max(rounds, 15))
        for size in sizes:
            add(Figure.measured(f"idle tick, {size} pilots (PostgreSQL)", idle[f"tick {size}"],
                                "indexed SQL query of what is due", idle[f"floor {size}"], limit=5.0,
                                target="≤ 5x the indexed SQL floor",
                                note="the floor: the statement due_stages runs on planned_event plus the "
                                     "pending notices, one round trip; CPU of this process only"),
                tick_at(size) if size == sizes[1] else None)
        add(Figure.measured(f"idle tick, {sizes[1]} vs {sizes[0]} pilots (PostgreSQL)", idle[f"tick {sizes[1]}"],
                            f"idle tick, {sizes[0]} pilots (PostgreSQL)", idle[f"tick {sizes[0]}"], limit=1.5,
                            target="≤ 1.5x", note="the two databases ticked in turn, round after round"))
    finally:
        _pg_drop(url, busy_name)
        _pg_drop(url, small_name)
        use_database(url)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    main()
