"""Fuzzing: hostile application files, score sheets, programme files and command lines are refused
in French, with a non-zero exit, no traceback, and the database unchanged.

Each target's cases are generated once (derandomized: the same cases on every run) and checked for
each promise separately, so that a broken promise does not hide the others. The longer run is
`python bench/fuzz.py`; its last results are in bench/FUZZ-RESULTS.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from tests.fuzz.harness import ROOT, Harness, Outcome
from tests.fuzz.strategies import TARGETS, Case
from tests.guards import HANG_GUARD

EXAMPLES_PER_TARGET = int(os.environ.get("FUZZ_EXAMPLES", "30"))
FUZZ = settings(max_examples=EXAMPLES_PER_TARGET, deadline=None, derandomize=True, database=None,
                phases=[Phase.explicit, Phase.generate],  # no shrinking: the first bad case is reported as is
                suppress_health_check=list(HealthCheck))

CHECKS = ["traceback", "french", "refused", "database", "bounded"]

pytestmark = pytest.mark.slow  # about two minutes on 2 cores: `pytest -m "not slow"` leaves it out

@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    from config.settings import reset_settings
    from models.db import dispose_engines

    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "OUTBOX_DIR", "COLUMNS")}
    work = Path(tempfile.mkdtemp(prefix="transitions-fuzz-"))
    harness = Harness(work, timeout=HANG_GUARD)  # a hang guard, not a speed limit: speed is bench/fuzz.py's
    harness.prepare()
    yield harness
    dispose_engines()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reset_settings()
    shutil.rmtree(work, ignore_errors=True)


_outcomes: dict[Case, Outcome] = {}


def outcome_of(harness: Harness, case: Case) -> Outcome:
    """Each case runs once, whichever check asks first."""
    if case not in _outcomes:
        _outcomes[case] = harness.run(case.template, list(case.argv), dict(case.files))
    return _outcomes[case]


def check(case: Case, outcome: Outcome, promise: str) -> None:
    problems = outcome.problems(case.expect_refusal)
    shown = f"{case.describe()}\n→ exit {outcome.exit_code}, {outcome.seconds:.2f} s : {outcome.output[:600]}"
    if promise == "traceback":
        assert "traceback" not in problems and "internal" not in problems, (problems, shown)
    elif promise == "french":
        assert "english" not in problems and "silent" not in problems, (problems, shown)
    elif promise == "refused":
        assert "accepted" not in problems, (problems, shown)
    elif promise == "database":
        assert "db_changed" not in problems, (problems, shown)
    elif promise == "bounded":  # no case hangs; how fast each answers is bench/fuzz.py's to measure
        assert "hang" not in problems, (problems, shown)


def _params() -> list[object]:
    params = []
    for target in TARGETS:
        for promise in CHECKS:
            params.append(pytest.param(target, promise, id=f"{target}-{promise}"))
    return params


@pytest.mark.parametrize(("target", "promise"), _params())
def test_hostile_input_is_refused_cleanly(harness: Harness, target: str, promise: str) -> None:
    @FUZZ
    @given(case=TARGETS[target]())
    def property_(case: Case) -> None:
        check(case, outcome_of(harness, case), promise)

    property_()


@pytest.mark.parametrize("special", ["fifo", "dev_zero"])
def test_special_files_are_refused_without_reading_forever(harness: Harness, tmp_path: Path, special: str) -> None:
    """A FIFO or /dev/zero given as an application: refused at once, not read until memory runs out."""
    if special == "fifo":
        path = tmp_path / "candidature.yaml"
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
    code = ("import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
            "from transitions.cli import main; main(sys.argv[1:])")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": harness.url}
    harness.restore("open")
    try:
        done = subprocess.run([sys.executable, "-c", code, "submit", str(path), "--at", "2015-04-25T10:00"],
                              capture_output=True, text=True, env=env, timeout=HANG_GUARD, cwd=ROOT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"bloqué : submit {path} n'a pas répondu en {HANG_GUARD:.0f} s (lu sans fin ?)", pytrace=False)
    assert done.returncode == 2, (done.returncode, done.stderr[-500:])
    assert "Traceback" not in done.stderr


def _commands() -> list[tuple[list[str], object]]:
    """Every command of the CLI (path, click command), `demo` left out (it replays a whole programme)."""
    import typer

    from transitions.cli import app

    found: list[tuple[list[str], object]] = []

    def walk(command: object, path: list[str]) -> None:
        subs = getattr(command, "commands", None)
        if subs:
            for name, sub in sorted(subs.items()):
                walk(sub, [*path, name])
        elif path not in (["demo"], ["serve"], ["portal"]):  # they run for long: a whole replay, services
            found.append((path, command))

    walk(typer.main.get_command(app), [])
    return found


ABSURD = ["", "\x1b[31m\u202e" + "x" * 5000, str(2**64), "-1", "0001-01-01T00:00"]


def test_every_command_refuses_missing_empty_and_absurd_values(harness: Harness) -> None:
    """Each parameter of each command, left out (when required), empty or absurd, the others valid:
    a French message, a non-zero exit other than 70 (none when the value is optional and absurd
    only in appearance), no traceback, and the database unchanged."""
    import click

    good = {"at": "2015-07-02T10:00", "party": "cerdd", "signatory": "X", "organisation": "Y", "contact": "Z",
            "email": "z@example.org", "out_dir": "demo", "file": "sortie.txt", "what": "application",
            "session_key": "formation-1", "person": "Claire Dufour", "key": "diagnostic", "notice_id": "1"}
    problems, runs = [], 0
    for path, command in _commands():
        params = [p for p in command.params if not getattr(p, "is_flag", False)]  # type: ignore[attr-defined]
        for param in params:
            for value in ([None] if param.required else []) + ABSURD:
                argv = list(path)
                for other in params:
                    if other is param:
                        if value is not None:
                            argv += [value] if isinstance(other, click.Argument) else [other.opts[0], value]
                    elif other.required:
                        given = good.get(str(other.name), "200033579")
                        argv += [given] if isinstance(other, click.Argument) else [other.opts[0], given]
                outcome = harness.run("pilots", argv, {})
                runs += 1
                found = outcome.problems(expect_refusal=value in (None, "", ABSURD[1]))
                found.pop("slow", None)
                if found:
                    problems.append((argv[:8], {k: v[:160] for k, v in found.items()}))
    assert runs > 200
    assert not problems, "\n".join(repr(p) for p in problems)
