"""The portal under load, as people use it (issue 25's Done-when): national programmes of 100 and
1,000 pilots on PostgreSQL, the real portal (`transitions portal --workers 2`, loopback), 50 and 100
simulated people (bench/load_people.py) opening their pages and acting through the forms while
ticks run (bench/load_ticks.py); then every accepted act checked in the database
(bench/load_verify.py). Beside it, in turn, the floor: a bare FastAPI endpoint (bench/pages.py
`bare_app`, a fixed 12 KB page) under the same uvicorn, 2 workers, same client and people, asked
the territories' own paths (the same requests as the territory page alone).

Per configuration (pilots, people), in this order: the bare endpoint and the territory page alone
(every person a territory) in turn, `--rounds` rounds of `--floor-seconds / --rounds` seconds a
side in the order A B, B A, A B… (the ratio: the median of the rounds' ratios), then everyone at
work with ticks (`--seconds`). Configurations alternate sizes (100, 1,000, 100, 1,000), so portal and floor
runs alternate all along. Each configuration runs on a fresh copy of its programme.

The programmes are built through the product (`bench.national.build`, in replay mode so that the
portal's present is the last tick) once per version of what builds them, and kept as PostgreSQL
template databases (`load_cache_<pilots>_<version>`); each run copies one (CREATE DATABASE …
TEMPLATE) and drops it. `--drop-cache` drops them at the end.

Building a version drops the cached builds of the same size made by earlier versions.

Usage: `.venv/bin/python bench/load.py [--pg URL] [--pilots 100,1000] [--people 50,100]
[--seconds 60] [--floor-seconds 24] [--rounds 4] [--quick [--keep-cache]] [--floors] [--out bench/RESULTS-load.md]`;
`--pg` defaults to TEST_DATABASE_URL (its server only: databases are created beside it). `--floors`
runs only the bare endpoint and the territory page alone (the ratio target, in a few minutes), into
bench/RESULTS-load-floors.md. Writes the report and results-load.json beside it (bench/ for a full
run; `--quick`, a smoke check at 10 pilots: var/bench-load-quick/, and the programmes it built
dropped at the end unless `--keep-cache`); exit 1 when a target is missed or an act is not recorded
exactly once.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.load_people import Person, Tally, merged, run  # noqa: E402
from bench.load_report import Configuration, judge, ms, write_report  # noqa: E402
from bench.load_verify import mark, verify  # noqa: E402

BUILT_FROM = [ROOT / "bench" / "national.py", ROOT / "programmes" / "cerdd-2015.yaml",
              ROOT / "examples" / "candidature-cu-arras.yaml", ROOT / "models" / "pilot_changes.py"]
"""What a cached programme is built from: its version is their SHA-256 (with the migrations' names
and contents; `models/pilot_changes.py` makes the triggers a migration installs)."""
BUILT: dict[int, float] = {}
"""Seconds each programme took to build in this run (none: a cached build was used)."""


def say(text: str) -> None:
    print(text, flush=True)


# --- databases ------------------------------------------------------------------------------------

def database_url(server: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server).set(database=name).render_as_string(hide_password=False)


def admin(server: str, *statements: str) -> list[Any]:
    """Run statements on the server's `postgres` database (autocommit); the last one's rows."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url(server, "postgres"), isolation_level="AUTOCOMMIT")
    rows: list[Any] = []
    try:
        with engine.connect() as connection:
            for statement in statements:
                result = connection.execute(text(statement))
                rows = list(result.all()) if result.returns_rows else []
    finally:
        engine.dispose()
    return rows


def version() -> str:
    digest = hashlib.sha256()
    for path in BUILT_FROM:
        digest.update(path.read_bytes())
    for path in sorted((ROOT / "models" / "migrations" / "versions").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cached(server: str, pilots: int) -> str:
    """The name of the template database holding the programme of `pilots` pilots at this version,
    built now (through `bench.national.build`, then ticked once at its last instant) if missing."""
    from bench.national import build

    name = f"load_cache_{pilots}_{version()}"
    if admin(server, f"SELECT 1 FROM pg_database WHERE datname = '{name}'"):
        say(f"  {pilots} pilots: cached build {name}")
        return name
    for (older,) in admin(server, "SELECT datname FROM pg_database WHERE datname ~ "
                                  f"'^load_cache_{pilots}_[0-9a-f]{{12}}(_building)?$'"):
        say(f"  {pilots} pilots: {older}, built by an earlier version, dropped")
        admin(server, f'DROP DATABASE IF EXISTS "{older}" WITH (FORCE)')
    building = f"{name}_building"
    admin(server, f'DROP DATABASE IF EXISTS "{building}"', f'CREATE DATABASE "{building}"')
    url = database_url(server, building)
    started = time.perf_counter()
    made = build(url, pilots, step=timedelta(days=28))
    as_replay(url, made.reached)
    BUILT[pilots] = time.perf_counter() - started
    say(f"  {pilots} pilots: built in {BUILT[pilots]:.0f} s ({name})")
    admin(server, f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    return name


def as_replay(url: str, reached: datetime) -> None:
    """The built programme in replay mode (the portal's present: its last tick, which the ticks
    move), ticked once at the build's last instant."""
    from sqlmodel import select

    from config.settings import get_settings
    from flows.plain import run_tick_plain
    from models.db import dispose_engines, session_scope
    from models.tables import Programme, ProgrammeMode

    with session_scope(url) as session:
        for programme in session.exec(select(Programme)).all():
            programme.mode = ProgrammeMode.REPLAY
            session.add(programme)
    run_tick_plain(reached, settings=get_settings().model_copy(update={"database_url": url}))
    dispose_engines()


@contextmanager
def copy_of(server: str, template: str, name: str) -> Iterator[str]:
    """A fresh copy of `template` named `name` (dropped at the end); yields its URL."""
    from models.db import dispose_engines, migrate

    admin(server, f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = database_url(server, name)
    migrate(url)
    try:
        yield url
    finally:
        dispose_engines()
        admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- people -----------------------------------------------------------------------------------------

SHARES = (("territoire", 0.6), ("prestataire", 0.2), ("jure", 0.1))
"""Who the people are (the rest: the Cerdd)."""


def cast(url: str, secret: str, count: int, seed: int) -> list[Person]:
    """`count` people with their personal links (valid a day from now, real time): territories of
    distinct pilots, consultants (the deliverables not handed in dealt between them), jurors, the
    Cerdd."""
    from sqlmodel import col, select

    from models import links
    from models.context import load_ctx
    from models.db import session_scope
    from models.tables import Application, Deliverable, Pilot, TrainingSession

    rng = random.Random(seed)
    now = datetime.now(UTC) - timedelta(minutes=1)
    with session_scope(url) as session:
        ctx = load_ctx(session)
        at = ctx.present(now)

        def link(bearer: links.Bearer) -> str:
            return links.current_link(ctx, bearer, secret=secret, at=at, days=1, valid_from=now)

        pilots = list(session.exec(select(Application.lead_siren, Pilot.id).join(
            Application, col(Application.id) == Pilot.application_id).where(Pilot.programme_id == ctx.programme_id)
            .order_by(col(Pilot.rank))).all())
        receipts = sorted(session.exec(select(Application.receipt_number)
                                       .where(Application.programme_id == ctx.programme_id)).all())
        first_session = dict(session.exec(select(TrainingSession.pilot_id, TrainingSession.key)
                                          .where(TrainingSession.key == "seminaire-diffusion")).all())
        open_deliverables = list(session.exec(select(Application.lead_siren, Deliverable.key)
                                              .join(Pilot, col(Pilot.id) == Deliverable.pilot_id)
                                              .join(Application, col(Application.id) == Pilot.application_id)
                                              .where(col(Deliverable.delivered_at).is_(None))).all())
        rng.shuffle(pilots)
        rng.shuffle(open_deliverables)
        numbers = {kind: max(1, round(count * share)) for kind, share in SHARES}
        numbers["cerdd"] = max(0, count - sum(numbers.values()))
        people: list[Person] = []
        consultancy = link(links.consultancy_bearer())
        jurors = [link(links.juror_bearer(ctx, member.email)) for member in ctx.definition.jury.members]
        for index in range(numbers["territoire"]):
            siren, pilot_id = pilots[index % len(pilots)]
            token = link(links.Bearer("territoire", siren=siren))
            people.append(Person("territoire", {"territoire": f"/l/{token}/territoire/{siren}",
                                                "calendrier": f"/l/{token}/calendrier.ics",
                                                "session": f"/l/{token}/territoire/{siren}/session/"
                                                           f"{first_session.get(pilot_id or 0, 'formation-1')}.ics"},
                                 siren=siren))
        for index in range(numbers["prestataire"]):
            people.append(Person("prestataire", {"prestataire": f"/l/{consultancy}/prestataire"},
                                 deliverables=open_deliverables[index::numbers["prestataire"]],
                                 pages=max(1, -(-len(pilots) // 10))))
        for index in range(numbers["jure"]):
            people.append(Person("jure", {"jury": f"/l/{jurors[index % len(jurors)]}/jury"},
                                 receipts=rng.sample(receipts, min(50, len(receipts))),
                                 pages=max(1, -(-len(receipts) // 25))))
        for index in range(numbers["cerdd"]):
            siren, _ = pilots[(numbers["territoire"] + index) % len(pilots)]
            people.append(Person("cerdd", {"cerdd": f"/l/{link(links.Bearer('cerdd', siren=siren))}/cerdd/{siren}"}))
    return people


def territories_only(people: list[Person]) -> list[Person]:
    """As many people, each opening a territory's page (those of the cast's territories, in turn)."""
    territories = [p for p in people if p.kind == "territoire"]
    return [Person("territoire seul", territories[i % len(territories)].paths) for i in range(len(people))]


def bare_people(people: list[Person]) -> list[Person]:
    """As many people as `territories_only` makes of `people`, asking the bare endpoint the same
    territories' paths (`bench.pages.bare_app` answers them with its fixed page)."""
    return [Person("nu", person.paths) for person in territories_only(people)]


# --- servers --------------------------------------------------------------------------------------

def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(args: list[str], env: dict[str, str], health: str, log: Path) -> Iterator[str]:
    """A server started as `args` (its own session), up once `health` answers 200; yields its base
    URL's port-bearing prefix; stopped with SIGTERM (SIGKILL after 20 s) at the end."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with log.open("ab") as out:
        process = subprocess.Popen([part.replace("{port}", str(port)) for part in args], env=env, cwd=ROOT,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{args[0]} stopped at start ({process.returncode}): {log.read_text()[-2000:]}")
            try:
                if httpx.get(base + health, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{args} not up in 90 s: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        yield base
    finally:
        stop(process, 20)


def stop(process: subprocess.Popen[bytes], grace: float) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass
class Ticks:
    """The ticks of one run: one record per tick (bench/load_ticks.py's lines)."""

    records: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [str(r["error"]) for r in self.records if "error" in r]


@contextmanager
def ticking(url: str, env: dict[str, str], every: float, step_hours: float) -> Iterator[Ticks]:
    """Ticks every `every` s from the programme's last tick plus `step_hours`, each `step_hours`
    later, for the block's duration (the tick under way finishes, up to 120 s)."""
    from models.context import load_ctx
    from models.db import session_scope

    with session_scope(url) as session:
        last = load_ctx(session).programme.last_tick_at
    assert last is not None, "the programme was never ticked"
    start = last + timedelta(hours=step_hours)
    process = subprocess.Popen([sys.executable, str(ROOT / "bench" / "load_ticks.py"), url, start.isoformat(),
                                str(step_hours), str(every)], env=env, cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    ticks = Ticks()
    try:
        yield ticks
    finally:
        stop(process, 120)
        out, err = process.communicate()
        ticks.records = [json.loads(line) for line in out.decode().splitlines() if line.startswith("{")]
        if process.returncode not in (0, -signal.SIGTERM) or (err and b"Traceback" in err):
            ticks.records.append({"error": f"the tick loop ended with {process.returncode}: {err.decode()[-1500:]}"})


# --- one configuration ------------------------------------------------------------------------------

def environment(work: Path, url: str, secret: str) -> dict[str, str]:
    env = {**os.environ, "DATABASE_URL": url, "PORTAL_SECRET": secret, "DATA_DIR": str(work),
           "OUTBOX_DIR": str(work / "outbox"), "NOTICE_CHANNEL": "file", "PREFECT_HOME": str(work / "prefect"),
           "PORTAL_BASE_URL": "http://127.0.0.1", "PYTHONPATH": str(ROOT)}
    env.pop("PREFECT_API_URL", None)
    return env


def floors(config: Configuration, bare_base: str, base: str, people: list[Person], seed: int,
           options: argparse.Namespace) -> None:
    """The bare endpoint and the territory page alone, in turn: `options.rounds` rounds of
    `floor_seconds / rounds` seconds a side, in the order A B, B A, A B… (a machine that slows down
    or speeds up during the measure weighs on both sides alike); each round's ratio kept
    (`Configuration.rounds`: the figure is their median), each side's rounds summed."""
    bares: list[Tally] = []
    alones: list[Tally] = []
    seconds = options.floor_seconds / options.rounds
    for index in range(options.rounds):
        for side in ("bare", "page") if index % 2 == 0 else ("page", "bare"):
            config.load.append(os.getloadavg()[0])
            if side == "bare":
                bares.append(run(bare_base, bare_people(people), seconds, seed=seed + index, think=options.think))
            else:
                alones.append(run(base, territories_only(people), seconds, seed=seed + index, think=options.think))
        bare_per_s = bares[-1].summary()["kinds"].get("nu", {}).get("per_s", 0.0)
        page_per_s = alones[-1].summary()["kinds"].get("territoire", {}).get("per_s", 0.0)
        config.rounds.append(page_per_s / bare_per_s if bare_per_s else 0.0)
    config.bare, config.alone = merged(bares).summary(), merged(alones).summary()


def run_configuration(config: Configuration, server: str, template: str, bare_base: str, work: Path,
                      options: argparse.Namespace) -> None:
    secret = secrets.token_urlsafe(48)
    seed = options.seed + config.pilots + config.people
    with copy_of(server, template, f"load_run_{config.pilots}_{os.getpid()}") as url:  # two benches at once: apart
        people = cast(url, secret, config.people, seed)
        env = environment(work, url, secret)
        portal = [str(Path(sys.executable).parent / "transitions"), "portal", "--workers", "2", "--host",
                  "127.0.0.1", "--port", "{port}"]
        with served(portal, env, "/sante", work / f"portal-{config.pilots}.log") as base:
            run(bare_base, bare_people(people), options.warm, seed=seed)  # warm: not measured
            run(base, territories_only(people), options.warm, seed=seed)
            floors(config, bare_base, base, people, seed, options)
            say(f"    bare endpoint: {config.bare['per_s']:.0f} req/s, p95 {ms(config.bare['kinds']['nu']['p95'])} ms")
            page = config.alone["kinds"].get("territoire", {})
            say(f"    territory page alone: {page.get('per_s', 0):.0f} req/s served, "
                f"p95 {1000 * page.get('p95', 0):.0f} ms, {config.alone['busy_503']} × 503 (full), "
                f"{config.alone['errors']} errors; ratio {config.ratio:.2f}x ({config.spread or 'one round'})")
            if options.floors:
                return
            before = mark(url)
            config.load.append(os.getloadavg()[0])
            with ticking(url, env, options.tick_every, options.tick_hours) as ticks:
                tally: Tally = run(base, people, options.seconds, seed=seed, think=options.think, double=options.double)
            config.ticks = ticks.records
            config.mixed = tally.summary()
        config.problems = verify(url, before, tally.accepted)
    say(f"    people at work: {config.mixed['requests']} requests ({config.mixed['per_s']:.0f}/s answered), "
        f"{config.mixed['errors']} errors, {config.mixed['busy_503']} busy (503), {len(tally.accepted)} acts accepted, "
        f"{config.mixed['replays_refused']} second posts refused, {len(config.ticks)} ticks "
        f"({len([t for t in config.ticks if 'error' in t])} failed); {len(config.problems)} recording problems")
    for line in (config.mixed["first_errors"] + config.problems)[:10]:
        say(f"      ! {line}")


def bench_load(options: argparse.Namespace) -> tuple[list[Configuration], list[dict[str, Any]]]:
    """Every configuration in turn (sizes alternating), the report written; the configurations and
    the judged figures."""
    settle(options)
    server = options.pg or os.environ.get("TEST_DATABASE_URL")
    if not server or not server.startswith("postgresql"):
        raise SystemExit("Indiquez un serveur PostgreSQL : --pg postgresql+psycopg://… ou TEST_DATABASE_URL.")
    started, begin = datetime.now(UTC), time.perf_counter()
    sizes = [int(s) for s in options.pilots.split(",") if s]
    counts = [int(s) for s in options.people.split(",") if s]
    builds = {size: cached(server, size) for size in sizes}
    work = Path(tempfile.mkdtemp(prefix="transitions-bench-load-"))
    configs: list[Configuration] = []
    bare = [sys.executable, "-m", "uvicorn", "--factory", "bench.pages:bare_app", "--workers", "2", "--host",
            "127.0.0.1", "--port", "{port}", "--no-access-log", "--no-server-header", "--log-level", "warning"]
    try:
        with served(bare, environment(work, "", ""), "/nu", work / "bare.log") as bare_base:
            for people in counts:
                for size in sizes:
                    say(f"  {size} pilots, {people} people ({(time.perf_counter() - begin) / 60:.1f} min)")
                    config = Configuration(size, people)
                    run_configuration(config, server, builds[size], bare_base, work, options)
                    configs.append(config)
                    figures = judge(configs)
                    write_report(configs, figures, options, builds, BUILT, started, time.perf_counter() - begin)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        for name in to_drop(options, builds, BUILT):
            admin(server, f'DROP DATABASE IF EXISTS "{name}"')
    figures = judge(configs)
    write_report(configs, figures, options, builds, BUILT, started, time.perf_counter() - begin)
    return configs, figures


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parse.add_argument("--pg", default=None, help="a PostgreSQL URL (its server; default TEST_DATABASE_URL)")
    parse.add_argument("--pilots", default="100,1000")
    parse.add_argument("--people", default="50,100")
    parse.add_argument("--seconds", type=float, default=60.0, help="people at work, per configuration")
    parse.add_argument("--floor-seconds", type=float, default=24.0,
                       help="bare endpoint and territory page alone, each (split into --rounds)")
    parse.add_argument("--rounds", type=int, default=4, help="rounds of the two floors in turn (A B, B A…)")
    parse.add_argument("--warm", type=float, default=3.0, help="unmeasured seconds on each server first")
    parse.add_argument("--think", type=float, default=0.05, help="mean seconds between two steps of a person")
    parse.add_argument("--double", type=float, default=0.1, help="share of forms posted twice")
    parse.add_argument("--tick-every", type=float, default=5.0)
    parse.add_argument("--tick-hours", type=float, default=24.0)
    parse.add_argument("--seed", type=int, default=2015)
    parse.add_argument("--quick", action="store_true", help="a smoke check: 10 pilots, 6 people, 8 s")
    parse.add_argument("--drop-cache", action="store_true", help="drop the cached programmes at the end")
    parse.add_argument("--keep-cache", action="store_true",
                       help="with --quick: keep the programmes it built (dropped at the end otherwise)")
    parse.add_argument("--floors", action="store_true",
                       help="only the bare endpoint and the territory page alone, in turn (no people at work, no "
                            "ticks): the ratio in a few minutes")
    parse.add_argument("--out", type=Path, default=None,
                       help=f"the report (results-load.json beside it); default {RESULTS.relative_to(ROOT)}, "
                            f"with --floors bench/RESULTS-load-floors.md, "
                            f"with --quick {QUICK_RESULTS.relative_to(ROOT)}")
    return parse


RESULTS = ROOT / "bench" / "RESULTS-load.md"
"""The committed report of a full run."""
FLOORS_RESULTS = ROOT / "bench" / "RESULTS-load-floors.md"
"""Where a `--floors` run writes its report (the bare endpoint and the territory page alone)."""
QUICK_RESULTS = ROOT / "var" / "bench-load-quick" / "RESULTS-load.md"
"""Where a `--quick` run writes (git ignores var/): a smoke check never overwrites the committed figures."""


def settle(options: argparse.Namespace) -> None:
    """The options a run goes by: `--quick`'s sizes and durations (10 pilots, 6 people, 8 s) and its
    report under var/; without `--out`, the committed report for a full run. Idempotent."""
    if options.quick:
        options.pilots, options.people = "10", "6"
        options.seconds, options.floor_seconds, options.tick_every, options.warm = 8.0, 3.0, 2.0, 1.0
        options.rounds = 2
    options.out = options.out or (QUICK_RESULTS if options.quick else FLOORS_RESULTS if options.floors else RESULTS)
    options.out.parent.mkdir(parents=True, exist_ok=True)


def to_drop(options: argparse.Namespace, builds: dict[int, str], built: dict[int, float]) -> list[str]:
    """The cached programmes a run drops at its end: all with `--drop-cache`; with `--quick`, those
    it built itself (`built`: sizes built in this run), unless `--keep-cache`."""
    return [name for size, name in builds.items()
            if options.drop_cache or (options.quick and not options.keep_cache and size in built)]


def main(argv: list[str] | None = None) -> int:
    os.umask(0o077)  # the reports, logs and outboxes under var/ are this account's only, as the product's
    options = parser().parse_args(argv)
    _, figures = bench_load(options)
    for figure in figures:
        say(f"  {figure['name']}: {figure['value']} (target {figure['target']}) {'met' if figure['met'] else 'MISSED'}")
    say(f"results in {options.out}")
    return 0 if all(f["met"] for f in figures) else 1


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    sys.exit(main())
