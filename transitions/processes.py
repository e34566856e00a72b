"""The processes a service starts, each in its own session (process group), and how they stop:
together, promptly, none left behind.

`transitions serve` starts the Prefect server, the portal (uvicorn's supervisor and its workers)
and the process serving the deployments (whose flow runs Prefect starts in sessions of their
own). On SIGINT or SIGTERM it stops them in waves (`Children.stop`): SIGTERM to each wave's
process groups, `grace` seconds for them to finish, then SIGKILL to whatever is left of every
group and of every process found below the service (read from /proc, Linux), orphans included:
the service is their subreaper (`PR_SET_CHILD_SUBREAPER`), so a flow run whose runner died first
is still found and stopped.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Orphaned descendants of this process become its children (not init's), so that stopping
    finds them; False where the system offers no such thing."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


BACKGROUND_NICE = 5
"""How much lower than the portal's the priority of the flows' work is (`os.nice`): under CPU
contention Linux gives a nice-5 process about a third of a nice-0 one's share."""


def give_way_to_people() -> int:
    """Lower this process's CPU priority by BACKGROUND_NICE, for itself and the processes it starts
    (they inherit it): the ticks and deliveries are batch work, which may take a few seconds more;
    the pages people wait for are not. Called by the process serving the deployments
    (`transitions.serve_flows`); a Prefect worker's unit sets `Nice=5` (deploy/systemd). Returns
    the new niceness (unchanged where the system refuses)."""
    try:
        return os.nice(BACKGROUND_NICE)
    except OSError:
        return os.nice(0)


def descendants(pid: int) -> set[int]:
    """Every live (not zombie) process below `pid`, children's children included (/proc; empty elsewhere)."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


@dataclass
class Children:
    """The named child processes of this service, each the leader of its own process group."""

    started: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, args: Sequence[str], **popen: Any) -> subprocess.Popen[bytes]:
        """Start `args` as the child `name` (a French noun phrase: « le portail »), in a new session."""
        process = subprocess.Popen(list(args), start_new_session=True, **popen)
        self.started[name] = process
        return process

    def exited(self) -> tuple[str, int] | None:
        """The first child that has ended by itself, and its exit code (negative: the signal)."""
        for name, process in self.started.items():
            code = process.poll()
            if code is not None:
                return name, code
        return None

    def stop(self, waves: Sequence[Sequence[str]], grace: float) -> None:
        """Stop every child: wave after wave (children not named in a wave go in the last), SIGTERM
        to each group and up to `grace` seconds for it to end; then SIGKILL to what remains of
        every group and of every process found below this one, and reap them."""
        named = {name for wave in waves for name in wave}
        rest = [name for name in self.started if name not in named]
        below = descendants(os.getpid())
        for wave in [*waves, rest]:
            members = [self.started[name] for name in wave if name in self.started]
            for process in members:
                _signal_group(process.pid, signal.SIGTERM)
            deadline = time.monotonic() + grace
            for process in members:
                try:
                    process.wait(timeout=max(0.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
        below |= descendants(os.getpid())  # orphans handed to this subreaper meanwhile
        for process in self.started.values():
            _signal_group(process.pid, signal.SIGKILL)
        for pid in below:
            _signal(pid, signal.SIGKILL)
        for process in self.started.values():
            process.wait()
        _reap(below - {process.pid for process in self.started.values()})


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(pids: set[int]) -> None:
    """Collect the exit status of orphans this subreaper inherited (others are not ours: skipped)."""
    for pid in pids:
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


class StopSignal:
    """SIGINT and SIGTERM turned into a request to stop (`requested`, `name`), so the service can
    stop its children before it exits; handlers installed from the main thread."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.name: str | None = None
        self.at: float | None = None
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)

    def _handle(self, number: int, _frame: object) -> None:
        if self.name is None:
            self.name, self.at = signal.Signals(number).name, time.monotonic()
        self.event.set()

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking at once when a stop is asked (True then)."""
        return self.event.wait(seconds)
