"""Long fuzz run: hostile application files, score sheets, programme files and command lines, run
against the CLI in-process, with the strategies of tests/fuzz. Writes bench/FUZZ-RESULTS.md.

Usage: `.venv/bin/python bench/fuzz.py [--cases 10000] [--jobs 2] [--budget SECONDS] [--seed N]`.
Each job is a process with its own work directory and database, so jobs never share state. Done
(issue 8) when the results show 0 tracebacks, 0 English messages and 0 database changes.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CATEGORIES = {
    "traceback": "Python traceback (the installed command would print it)",
    "internal": "internal error, exit 70",
    "english": "English (or untranslated) message",
    "silent": "non-zero exit without any message",
    "accepted": "bad input accepted (exit 0)",
    "db_changed": "database changed",
    "hang": "no answer within the time limit",
    "slow": "slower than 1 s",
}
KEEP = 5  # offending inputs kept per category and job


def _environment(work: Path) -> None:
    os.environ["PREFECT_HOME"] = str(work / "prefect")
    os.environ.pop("PREFECT_API_URL", None)
    os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", str(work / "hypothesis"))


def prepare(work: Path) -> None:
    """The prepared databases, built once and copied into each job's directory."""
    _environment(work)
    from tests.fuzz.harness import Harness

    Harness(work).prepare()


def job(index: int, cases: int, seed: int, stop_at: float, work: Path, templates: Path, timeout: float,
        targets: list[str], dump: bool) -> dict[str, Any]:
    _environment(work)
    shutil.copytree(templates, work / "templates")
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis import strategies as st

    from tests.fuzz.harness import Harness
    from tests.fuzz.strategies import TARGETS, Case

    harness = Harness(work, timeout=timeout)
    harness.prepare()
    stats: dict[str, Any] = {"cases": 0, "exit_codes": Counter(), "by_target": Counter(), "problems": Counter(),
                             "problems_by_target": Counter(), "english_phrases": Counter(), "times": [],
                             "examples": {}, "slowest": None, "all": []}

    class Budget(BaseException):
        pass

    @settings(max_examples=cases, deadline=None, database=None, derandomize=False, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @hypothesis_seed(seed + index)
    @given(case=st.one_of(*(TARGETS[t]() for t in targets)))
    def run(case: Case) -> None:
        if time.time() > stop_at:
            raise Budget()
        outcome = harness.run(case.template, list(case.argv), dict(case.files))
        problems = outcome.problems(case.expect_refusal)
        stats["cases"] += 1
        stats["exit_codes"][outcome.exit_code] += 1
        stats["by_target"][case.target] += 1
        stats["times"].append(outcome.seconds)
        for phrase in outcome.english:
            stats["english_phrases"][phrase] += 1
        shown = {"case": case.describe(), "exit": outcome.exit_code, "seconds": round(outcome.seconds, 3),
                 "output": " ".join(outcome.output.split())[:400], "traceback": (outcome.traceback or "")[-600:]}
        if problems and dump:
            stats["all"].append({**shown, "target": case.target, "problems": problems})
        for category, detail in problems.items():
            stats["problems"][category] += 1
            stats["problems_by_target"][f"{category}|{case.target}"] += 1
            kept = stats["examples"].setdefault(category, [])
            if len(kept) < KEEP and all(shown["case"] != other["case"] for other in kept):
                kept.append({**shown, "detail": detail})
        if stats["slowest"] is None or outcome.seconds > stats["slowest"]["seconds"]:
            stats["slowest"] = shown

    try:
        run()
    except BaseException as exc:  # the budget, or hypothesis reporting it (maybe in a group)
        if "Budget" not in repr(exc) and not isinstance(exc, KeyboardInterrupt):
            raise
    return stats


def _job_main(args: tuple[Any, ...]) -> dict[str, Any]:
    return job(*args)


def special_files(work: Path, templates: Path, timeout: float) -> list[dict[str, Any]]:
    """A FIFO, /dev/zero and an alias bomb as each command's input file, one process at a time
    with 2 GiB at most; each reports the command's own time (imports excluded) and its peak memory."""
    fifo = work / "entree.yaml"
    os.mkfifo(fifo)
    bomb = work / "bombe.yaml"
    levels = ["a0: &a0 [" + ", ".join(["x"] * 9) + "]"]
    levels += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    bomb.write_text("\n".join(levels) + "\n", encoding="utf-8")  # 9**9 strings once expanded
    code = ("import resource, sys, time; resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
            "from transitions.cli import main; started = time.perf_counter()\n"
            "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "try:\n    main(sys.argv[1:])\nfinally:\n"
            "    print(f'@@ {time.perf_counter() - started:.3f} "
            "{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} {base}', file=sys.stderr)")
    commands = {"submit": ["submit", "{}", "--at", "2015-04-25T10:00", "--no-send"],
                "jury score": ["jury", "score", "{}", "--at", "2015-06-02T10:00"],
                "init --programme": ["init", "--programme", "{}", "--at", "2015-07-02T10:00"]}
    results = []
    for name, argv in commands.items():
        for special in (str(fifo), "/dev/zero", str(bomb)):
            db = work / f"special-{len(results)}.db"
            shutil.copyfile(templates / ("open.db" if name == "submit" else "pilots.db"), db)
            env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{db}",
                   "OUTBOX_DIR": str(work / "outbox"), "PREFECT_HOME": str(work / "prefect-special")}
            command = [sys.executable, "-c", code, *(a.format(special) for a in argv)]
            label = f"transitions {' '.join(a.format(special) for a in argv)}"
            started = time.perf_counter()
            try:
                done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=work,
                                      timeout=timeout * 3)  # imports included
            except subprocess.TimeoutExpired:
                results.append({"case": label, "exit": None, "seconds": time.perf_counter() - started,
                                "command_seconds": None, "peak_mb": None, "extra_mb": None,
                                "output": f"no answer after {timeout * 3:.0f} s (killed)"})
                continue
            lines = [line for line in done.stderr.splitlines() if not line.startswith("@@ ")]
            measure = [line.split() for line in done.stderr.splitlines() if line.startswith("@@ ")]
            results.append({"case": label, "exit": done.returncode, "seconds": time.perf_counter() - started,
                            "command_seconds": float(measure[0][1]) if measure else None,
                            "peak_mb": int(measure[0][2]) / 1024 if measure else None,
                            "extra_mb": (int(measure[0][2]) - int(measure[0][3])) / 1024 if measure else None,
                            "output": " ".join((done.stdout + "\n".join(lines)).split())[-300:]})
    return results


def merge(parts: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {"cases": 0, "exit_codes": Counter(), "by_target": Counter(), "problems": Counter(),
                             "problems_by_target": Counter(), "english_phrases": Counter(), "times": [],
                             "examples": {}, "slowest": None, "all": []}
    for part in parts:
        total["all"] += part["all"]
        total["cases"] += part["cases"]
        for key in ("exit_codes", "by_target", "problems", "problems_by_target", "english_phrases"):
            total[key].update(part[key])
        total["times"] += part["times"]
        for category, kept in part["examples"].items():
            seen = total["examples"].setdefault(category, [])
            seen.extend(e for e in kept if all(e["case"] != other["case"] for other in seen))
        if part["slowest"] and (total["slowest"] is None or part["slowest"]["seconds"] > total["slowest"]["seconds"]):
            total["slowest"] = part["slowest"]
    return total


def report(total: dict[str, Any], special: list[dict[str, Any]], options: argparse.Namespace, wall: float) -> str:
    times = sorted(total["times"]) or [0.0]
    lines = [
        "# Fuzz run (issue 8)",
        "",
        f"`python bench/fuzz.py --cases {options.cases} --jobs {options.jobs} --seed {options.seed}"
        + (f" --budget {options.budget:g}" if options.budget else "") + f"`, {time.strftime('%Y-%m-%d %H:%M')}, "
        f"{os.cpu_count()} CPU. Every case is bad input (see tests/fuzz/strategies.py): it must be refused with a "
        "French message, a non-zero exit, no traceback, and the database unchanged.",
        "",
        f"- cases run: **{total['cases']}** in {wall:.0f} s of wall time "
        f"({', '.join(f'{t} {n}' for t, n in sorted(total['by_target'].items()))})",
        f"- time per case: mean {statistics.fmean(times) * 1000:.0f} ms, "
        f"median {statistics.median(times) * 1000:.0f} ms, "
        f"95th percentile {times[int(0.95 * (len(times) - 1))] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms",
        "- exit codes: " + ", ".join(f"{code}: {n}" for code, n in sorted(total["exit_codes"].items())),
        "",
        "| problem | cases | application | jury | programme | cli |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for category, meaning in CATEGORIES.items():
        per = [str(total["problems_by_target"].get(f"{category}|{t}", 0))
               for t in ("application", "jury", "programme", "cli")]
        lines.append(f"| {meaning} (`{category}`) | {total['problems'].get(category, 0)} | {' | '.join(per)} |")
    lines += ["", "Done when tracebacks, internal errors, English messages and database changes are all 0.", ""]
    if total["english_phrases"]:
        lines += ["English phrases seen (cases): " + ", ".join(
            f"`{p}` {n}" for p, n in total["english_phrases"].most_common()), ""]
    if total["slowest"]:
        slow = total["slowest"]
        lines += ["## Slowest case", "", f"{slow['seconds']:.2f} s, exit {slow['exit']}: `{slow['case']}`", ""]
    if special:
        lines += ["## Special files as input (one process each, 2 GiB address space at most)", "",
                  "A FIFO, /dev/zero and a 9^9 alias bomb (about 500 bytes). Seconds: the process (Python and "
                  "imports included), then the command alone; peak: the process's maximum resident memory, and "
                  "how much the command added to the peak the imports had reached.", "",
                  "| command | exit | process s | command s | peak MB | added by the command MB | output (end) |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
        for row in special:
            command_s = "—" if row["command_seconds"] is None else f"{row['command_seconds']:.2f}"
            peak = "—" if row["peak_mb"] is None else f"{row['peak_mb']:.0f}"
            extra = "—" if row["extra_mb"] is None else f"{row['extra_mb']:.0f}"
            lines.append(f"| `{row['case']}` | {row['exit']} | {row['seconds']:.1f} | {command_s} | {peak} | {extra} | "
                         f"{row['output'].replace('|', '/')[:200]} |")
        lines.append("")
    lines += ["## First offending inputs per category", ""]
    for category, meaning in CATEGORIES.items():
        kept = total["examples"].get(category, [])[:KEEP]
        if not kept:
            continue
        lines += [f"### {meaning} (`{category}`)", ""]
        for example in kept:
            lines.append(f"- exit {example['exit']}, {example['seconds']:.2f} s — {example['detail'][:200]!r}")
            lines.append(f"  - input: {example['case'][:600]!r}")
            lines.append(f"  - output: {example['output'][:300]!r}")
            if example["traceback"]:
                lines.append(f"  - traceback (end): {example['traceback'][-300:]!r}")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000, help="cases in all (default 10000)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes (default: one per CPU)")
    parser.add_argument("--budget", type=float, default=0, help="stop generating after this many seconds")
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument("--timeout", type=float, default=10.0, help="limit per case, in seconds")
    parser.add_argument("--targets", default="application,jury,programme,cli")
    parser.add_argument("--no-special", action="store_true", help="skip the FIFO and /dev/zero runs")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "FUZZ-RESULTS.md")
    parser.add_argument("--dump", type=Path, help="also write every offending case to this JSON file")
    options = parser.parse_args()
    started = time.time()
    base = Path(tempfile.mkdtemp(prefix="transitions-fuzz-"))
    templates_work = base / "prepare"
    context = multiprocessing.get_context("spawn")  # each job imports the product afresh
    with context.Pool(1) as pool:
        pool.apply(prepare, (templates_work,))
    templates = templates_work / "templates"
    special = [] if options.no_special else special_files(base, templates, options.timeout)
    stop_at = started + options.budget if options.budget else float("inf")
    targets = options.targets.split(",")
    shares = [options.cases // options.jobs + (1 if i < options.cases % options.jobs else 0)
              for i in range(options.jobs)]
    arguments = [(i, shares[i], options.seed, stop_at, base / f"job-{i}", templates, options.timeout, targets,
                  options.dump is not None) for i in range(options.jobs) if shares[i]]
    with context.Pool(len(arguments)) as pool:
        parts = pool.map(_job_main, arguments)
    total = merge(parts)
    wall = time.time() - started
    options.out.write_text(report(total, special, options, wall) + "\n", encoding="utf-8")
    if options.dump:
        options.dump.write_text(json.dumps(total["all"], ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{total['cases']} cases in {wall:.0f} s; problems: "
          + (", ".join(f"{k} {v}" for k, v in total["problems"].most_common()) or "none")
          + f"; exit codes {dict(sorted(total['exit_codes'].items()))}; written to {options.out}")
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
