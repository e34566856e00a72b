"""A command-line tick in a cold process against a running `transitions serve`.

`transitions tick --at …` in a new process must join the Prefect server `transitions serve`
announced in `DATA_DIR/serveur-prefect.json` instead of starting a temporary one (PREFECT-NOTES:
~13 s for a cold tick with its own server). This starts `transitions serve` on a free loopback port
with its own data, then measures in cold processes, in the same run (the machine is shared, so
figures are ratios to floors measured alongside):

- `python_start`: a bare interpreter start; `import_prefect`: start + `import prefect` (what any
  flow run in a new process pays);
- `cli_help`: `transitions --help`, the command line's own floor;
- `cli_tick_joined`: `transitions tick --at T` (median of `--runs`, each at a new instant), checked
  to have run on the service's server (its flow run is read back through the API). Target ≤ 3 s.
- `cli_tick_ephemeral` (unless `--quick`): the same tick with no service: its own temporary server.

Usage: `python bench/serve_tick.py [--json] [--runs N] [--quick]`. `--json` prints one JSON list of
records {name, value, unit, floor_name, floor, ratio, target, met, note}.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
CLI = [PYTHON, "-c", "from transitions.cli import main; main()"]
TARGET_SECONDS = 3.0
INSTANTS = ["2015-04-02T09:00", "2015-04-09T09:00", "2015-04-16T09:00", "2015-04-23T09:00", "2015-04-30T09:00",
            "2015-05-04T09:00", "2015-05-05T09:00", "2015-05-06T09:00", "2015-05-07T09:00", "2015-05-11T09:00"]


def _env(work: Path, data: str = "var") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"DATA_DIR": str(work / data), "DATABASE_URL": f"sqlite:///{work / 'transitions.db'}",
                "OUTBOX_DIR": str(work / "outbox"), "NOTICE_CHANNEL": "file", "DO_NOT_TRACK": "1",
                "PREFECT_HOME": str(work / f"prefect-{data}"), "PYTHONPATH": str(ROOT)})
    return env


def _timed(args: list[str], env: dict[str, str],
           timeout: float = 600) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - start, done


def _best(args: list[str], env: dict[str, str], runs: int) -> float:
    """The median of `runs` cold runs of a command that must succeed."""
    times = []
    for _ in range(runs):
        seconds, done = _timed(args, env)
        if done.returncode != 0:
            raise SystemExit(f"échec de {' '.join(args[-3:])} :\n{done.stdout}{done.stderr}")
        times.append(seconds)
    return statistics.median(times)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Service:
    """`transitions serve` in its own process group, stopped with its Prefect server."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.marker = Path(env["DATA_DIR"]) / "serveur-prefect.json"
        self.log = work / "serve.log"
        self.process = subprocess.Popen([*CLI, "serve", "--port", str(_free_port())], cwd=ROOT, env=env,
                                        stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)

    def wait(self, seconds: float = 300) -> str:
        import httpx

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("transitions serve s'est arrêté :\n" + self.log.read_text(errors="replace"))
            try:
                api_url = str(json.loads(self.marker.read_text(encoding="utf-8"))["api_url"])
                if httpx.get(f"{api_url}/health", timeout=2).status_code == 200:
                    return api_url
            except (OSError, ValueError, KeyError, httpx.HTTPError):
                pass
            time.sleep(0.5)
        raise SystemExit("transitions serve n'a pas démarré à temps")

    def settle(self, api_url: str, seconds: float = 240) -> None:
        """Wait until the service has registered its deployments and its start-up tick is over: a
        running service is settled; its start-up is not what a command line pays."""
        import httpx

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                registered = httpx.get(f"{api_url}/deployments/name/tick/tick", timeout=5).status_code == 200
                busy = httpx.post(f"{api_url}/flow_runs/count", timeout=5, json={"flow_runs": {"state": {
                    "type": {"any_": ["PENDING", "RUNNING"]}}}}).json()
                if registered and busy == 0:
                    time.sleep(2)
                    return
            except (httpx.HTTPError, ValueError):
                pass
            time.sleep(1)

    def stop(self) -> None:
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)], capture_output=True,
                                  text=True).stdout.split()
        for sig, wait in ((signal.SIGINT, 20), (signal.SIGKILL, 10)):
            if self.process.poll() is None:
                os.killpg(self.process.pid, sig)
                try:
                    self.process.wait(timeout=wait)
                except subprocess.TimeoutExpired:
                    pass
        for pid in children:  # the Prefect server runs in its own session
            try:
                os.kill(int(pid), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass


def _tick_runs_on(api_url: str) -> list[str]:
    """Names of the tick flow runs the server at `api_url` recorded."""
    import httpx

    answer = httpx.post(f"{api_url}/flow_runs/filter", json={"limit": 200}, timeout=10)
    answer.raise_for_status()
    return [str(run["name"]) for run in answer.json()]


def record(name: str, value: float, *, floor_name: str | None = None, floor: float | None = None,
           target: str = "", met: bool | None = None, note: str = "", unit: str = "s") -> dict[str, Any]:
    ratio = round(value / floor, 2) if floor else None
    return {"name": name, "value": round(value, 3), "unit": unit, "floor_name": floor_name,
            "floor": round(floor, 3) if floor is not None else None, "ratio": ratio, "target": target,
            "met": met, "note": note}


def measure(runs: int, quick: bool) -> list[dict[str, Any]]:
    work = Path(tempfile.mkdtemp(prefix="transitions-bench-serve-"))
    env = _env(work)
    records: list[dict[str, Any]] = []
    try:
        _, done = _timed([*CLI, "init", "--mode", "rejeu", "--at", "2015-04-01T09:00"], env)
        if done.returncode != 0:
            raise SystemExit(done.stdout + done.stderr)
        python_start = _best([PYTHON, "-c", "pass"], env, runs)
        import_prefect = _best([PYTHON, "-c", "import prefect"], env, runs)
        cli_help = _best([*CLI, "--help"], env, runs)
        records += [record("python_start", python_start, note="interpréteur seul, à froid"),
                    record("import_prefect", import_prefect, floor_name="python_start", floor=python_start,
                           note="ce que paie tout flow Prefect dans un nouveau processus"),
                    record("cli_help", cli_help, floor_name="python_start", floor=python_start,
                           note="transitions --help à froid")]
        service = Service(work, env)
        try:
            api_url = service.wait()
            service.settle(api_url)
            times = []
            for instant in INSTANTS[:runs]:
                seconds, done = _timed([*CLI, "tick", "--at", instant], env)
                if done.returncode != 0:
                    raise SystemExit(f"tick --at {instant} :\n{done.stdout}{done.stderr}")
                times.append(seconds)
            names = _tick_runs_on(api_url)
            joined = all(any(name.startswith(f"tick {instant.replace('T', ' ')}") for name in names)
                         for instant in INSTANTS[:runs])
        finally:
            service.stop()
        joined_tick = statistics.median(times)
        records.append(record(
            "cli_tick_joined", joined_tick, floor_name="cli_help", floor=cli_help, target=f"<= {TARGET_SECONDS:g} s",
            met=joined and joined_tick <= TARGET_SECONDS,
            note=(f"médiane de {runs} ticks à froid ({', '.join(f'{t:.2f}' for t in times)} s) ; "
                  + ("chaque tick lu sur le serveur du service" if joined else
                     "ATTENTION : tick absent du serveur du service (serveur temporaire ?)"))))
        if not quick:
            alone = _env(work, "var-seul")
            seconds, done = _timed([*CLI, "tick", "--at", INSTANTS[runs % len(INSTANTS)]], alone)
            records.append(record("cli_tick_ephemeral", seconds, floor_name="cli_tick_joined", floor=joined_tick,
                                  note="le même tick sans service : serveur Prefect temporaire"
                                       + ("" if done.returncode == 0 else f" (échec, code {done.returncode})")))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON list of records on stdout")
    parser.add_argument("--runs", type=int, default=3, help="cold runs per measure (median), 1 to 10")
    parser.add_argument("--quick", action="store_true", help="skip the tick with its own temporary server")
    args = parser.parse_args()
    records = measure(max(1, min(args.runs, len(INSTANTS) - 1)), args.quick)
    if args.json:
        print(json.dumps(records, ensure_ascii=False))
        return
    for item in records:
        versus = f"  ({item['ratio']}x {item['floor_name']})" if item["ratio"] is not None else ""
        verdict = "" if item["met"] is None else ("  objectif tenu" if item["met"] else "  objectif MANQUÉ")
        target = f"  [{item['target']}]" if item["target"] else ""
        print(f"{item['name']:<20} {item['value']:>7.2f} {item['unit']}{versus}{target}{verdict}\n"
              f"{'':<20} {item['note']}")


if __name__ == "__main__":
    main()
