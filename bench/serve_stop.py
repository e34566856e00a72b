"""How long `transitions serve` takes to stop on SIGINT and on SIGTERM, children included.

Starts `transitions serve` (its own Prefect server on a free loopback port, the portal with
`--portal-workers`, its own SQLite data), waits until the tick deployment is registered and the
portal answers, sends the signal to the serve process alone (as `kill PID` or systemd would), and
measures until the process has exited and until every process it had started (read from /proc
just before the signal) is gone. Issue 25 saw SIGINT ignored for 35 s.

Usage: `python bench/serve_stop.py [--signal INT|TERM|both] [--runs N] [--portal-workers N] [--json]`.
Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from transitions.processes import descendants

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from transitions.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def ready(env: dict[str, str], api_url: str, portal_port: int) -> bool:
    try:
        deployment = httpx.post(f"{api_url}/deployments/filter", json={"deployments": {"name": {"any_": ["tick"]}}},
                                timeout=5)
        portal = httpx.get(f"http://127.0.0.1:{portal_port}/", timeout=5)
    except httpx.HTTPError:
        return False
    return bool(deployment.status_code == 200 and deployment.json()) and portal.status_code == 404


def one_stop(sig: signal.Signals, portal_workers: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="serve-stop-") as folder:
        work = Path(folder)
        port, portal_port = free_port(), free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
        env.update({"DATA_DIR": str(work / "var"), "DATABASE_URL": f"sqlite:///{work / 'transitions.db'}",
                    "OUTBOX_DIR": str(work / "outbox"), "NOTICE_CHANNEL": "file", "DO_NOT_TRACK": "1",
                    "PREFECT_HOME": str(work / "prefect"), "PORTAL_SECRET": secrets.token_urlsafe(48),
                    "PORTAL_PORT": str(portal_port),
                    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "300"})
        extra = ["--portal-workers", str(portal_workers)] if portal_workers > 1 else []
        log = (work / "serve.log").open("wb")
        process = subprocess.Popen([*CLI, "serve", "--port", str(port), *extra], cwd=ROOT, env=env,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 300
            while not ready(env, f"http://127.0.0.1:{port}/api", portal_port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit((work / "serve.log").read_text(errors="replace")[-3000:])
                time.sleep(1)
            time.sleep(3)  # the first tick's run under way, as in service
            children = descendants(process.pid)
            start = time.monotonic()
            os.kill(process.pid, sig)
            exited = gone = None
            while time.monotonic() - start < 120 and (exited is None or gone is None):
                if exited is None and process.poll() is not None:
                    exited = time.monotonic() - start
                if gone is None and not any(alive(pid) for pid in children):
                    gone = time.monotonic() - start
                time.sleep(0.05)
            left = sorted(pid for pid in children if alive(pid))
            return {"signal": sig.name, "children": len(children), "exited_s": exited, "children_gone_s": gone,
                    "exit_code": process.returncode, "left": left}
        finally:
            for pid in [process.pid, *descendants(process.pid)]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signal", choices=["INT", "TERM", "both"], default="both")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--portal-workers", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    signals = [signal.SIGINT, signal.SIGTERM] if args.signal == "both" else [signal.Signals[f"SIG{args.signal}"]]
    results = [one_stop(sig, args.portal_workers) for _ in range(args.runs) for sig in signals]
    if args.json:
        print(json.dumps(results))
        return
    for row in results:
        print(f"{row['signal']}: {row['children']} processus enfants ; sortie en {row['exited_s']} s, "
              f"enfants disparus en {row['children_gone_s']} s, code {row['exit_code']}, restants {row['left']}")


if __name__ == "__main__":
    main()
