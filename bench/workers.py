"""Prefect as deployed against `transitions serve`, on loopback, in one run (the machine is shared,
so the comparison is a ratio to the in-process runner measured alongside).

A Prefect server on a fresh PostgreSQL database (TEST_DATABASE_URL's server), registered by
deploy/register.sh, two process workers polling every PREFECT_WORKER_QUERY_SECONDS (default 10,
Prefect's). Measured: the server's start (to /health), the registration, a worker's start (to its
first heartbeat as the API records it); then `--runs` tick runs at idle instants, each created,
picked up and finished through the workers: pickup (created → running) and run (running →
completed). Then the workers stop and `transitions serve` joins the same server (its runner
polls every PREFECT_RUNNER_POLL_FREQUENCY, default 10) and the same runs are measured through it.

Usage: `TEST_DATABASE_URL=postgresql+psycopg://… python bench/workers.py [--runs N] [--poll S]`;
writes bench/RESULTS-workers.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DO_NOT_TRACK", "1")


def _runs(stack: Any, count: int, start: int) -> list[tuple[float, float]]:
    """`count` tick runs one after the other: (pickup, run) seconds each, from the API's times."""
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from models.clock import parse_instant
    from tests.prefect_stack import api

    found = []
    for n in range(start, start + count):
        instant = parse_instant("2015-04-03T09:00") + timedelta(days=n)
        with temporary_settings(updates={PREFECT_API_URL: stack.api_url}):
            run = run_deployment("tick/tick", parameters={"as_of": instant.isoformat()}, timeout=0, as_subflow=False)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            done = api(stack.api_url, lambda client, run=run: client.read_flow_run(run.id))
            if done.state.is_final():
                break
            time.sleep(0.5)
        assert done.state.is_completed(), done.state
        pickup, ran = done.start_time - done.created, done.end_time - done.start_time
        found.append((pickup.total_seconds(), ran.total_seconds()))
    return found


def _until_served(stack: Any) -> None:
    """Until `transitions serve` has taken the tick deployment over (no work pool) and its start-up
    tick has finished."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterState, FlowRunFilterStateType
    from prefect.client.schemas.objects import StateType

    from tests.prefect_stack import api

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            tick = api(stack.api_url, lambda client: client.read_deployment_by_name("tick/tick"))
        except Exception:  # noqa: BLE001 — being replaced
            tick = None
        active = api(stack.api_url, lambda client: client.read_flow_runs(flow_run_filter=FlowRunFilter(
            state=FlowRunFilterState(type=FlowRunFilterStateType(
                any_=[StateType.PENDING, StateType.RUNNING, StateType.SCHEDULED])))))
        if tick is not None and tick.work_pool_name is None and not active:
            return
        time.sleep(0.5)
    raise SystemExit("transitions serve n'a pas repris le déploiement du tick en 300 s\n" + stack.log_tail())


def _median(rows: list[tuple[float, float]], column: int) -> float:
    return statistics.median(row[column] for row in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--poll", default="10", help="PREFECT_WORKER_QUERY_SECONDS and PREFECT_RUNNER_POLL_FREQUENCY")
    args = parser.parse_args()
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        sys.exit("TEST_DATABASE_URL doit nommer une base PostgreSQL (elle est vidée).")
    from sqlalchemy import create_engine, text

    from tests.flows.test_workers import _install
    from tests.prefect_stack import Stack, api, free_port, fresh_database, stack_env

    with create_engine(url).begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    _install(url)
    folder = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    (folder / "logs").mkdir()
    figures: dict[str, float] = {}
    with fresh_database(url) as api_db:
        port = free_port()
        env = stack_env(folder, api_db, url, port)
        env.update({"PREFECT_WORKER_QUERY_SECONDS": args.poll, "PREFECT_RUNNER_POLL_FREQUENCY": args.poll})
        stack = Stack(env, f"http://127.0.0.1:{port}/api", folder / "logs")
        try:
            stack.start_server()
            stack.register()
            started = time.monotonic()
            for name in ("worker-a", "worker-b"):
                stack.start_worker(name)
            while not any(w.last_heartbeat_time for w in api(stack.api_url, lambda c: c.read_workers_for_work_pool(
                    "transitions"))):
                time.sleep(0.2)
            figures["worker"] = time.monotonic() - started
            workers = _runs(stack, args.runs, 0)
            for name in list(stack.workers):
                stack.kill_worker(name)
            # serve updating a deployment `prefect deploy` made keeps its pull steps: its runs then
            # crash (« No such file or directory: '…/None' »); serve starts from no deployment.
            for each in api(stack.api_url, lambda client: client.read_deployments()):
                api(stack.api_url, lambda client, each=each: client.delete_deployment(each.id))
            started = time.monotonic()
            serve = stack.spawn("serve", [sys.executable, "-c", "from transitions.cli import main; main()", "serve",
                                          "--port", str(port)])
            stack.workers["serve"] = serve
            _until_served(stack)
            figures["serve"] = time.monotonic() - started
            served = _runs(stack, args.runs, args.runs)
        finally:
            stack.stop()
    figures.update(stack.timings)
    lines = [
        "# Prefect as deployed: workers against `transitions serve` (bench/workers.py)", "",
        f"Poll every {args.poll} s; {args.runs} idle tick runs each way, medians (seconds).", "",
        "| measure | workers (2, process pool) | `transitions serve` | ratio |", "|---|---|---|---|",
        f"| server start on a fresh PostgreSQL database (to /health) | {figures['serveur']:.1f} | — | |",
        f"| registration (deploy/register.sh) | {figures['enregistrement']:.1f} | — | |",
        "| ready to run (first worker heartbeat / serve has registered and run its start-up tick) | "
        f"{figures['worker']:.1f} | {figures['serve']:.1f} | {figures['worker'] / figures['serve']:.2f} |",
    ]
    for column, label in ((0, "pickup (created → running)"), (1, "run (running → completed)")):
        w, s = _median(workers, column), _median(served, column)
        lines.append(f"| {label} | {w:.2f} | {s:.2f} | {w / s:.2f} |")
    total_w, total_s = statistics.median(a + b for a, b in workers), statistics.median(a + b for a, b in served)
    lines.append(f"| created → completed | {total_w:.2f} | {total_s:.2f} | {total_w / total_s:.2f} |")
    text_out = "\n".join(lines) + "\n"
    (ROOT / "bench" / "RESULTS-workers.md").write_text(text_out, encoding="utf-8")
    print(text_out)


if __name__ == "__main__":
    main()
