"""The load bench's figures (bench/load.py): each configuration's runs, the targets judged, the
report written (Markdown tables, and the same as JSON)."""

from __future__ import annotations

import argparse
import json
import statistics
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

TARGET_RATIO, TARGET_GROWTH = 0.2, 1.5
"""The territory page's requests/s at least 0.2x the bare endpoint's; its p95 at 1,000 pilots at most
1.5x its p95 at 100."""


def table(header: list[str], rows: list[list[Any]]) -> list[str]:
    """A Markdown table."""
    return ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header),
            *["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]]


@dataclass
class Configuration:
    pilots: int
    people: int
    bare: dict[str, Any] = field(default_factory=dict)
    alone: dict[str, Any] = field(default_factory=dict)
    mixed: dict[str, Any] = field(default_factory=dict)
    ticks: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    load: list[float] = field(default_factory=list)
    rounds: list[float] = field(default_factory=list)
    """The territory page's requests/s ÷ the bare endpoint's, round by round (measured in turn)."""

    @property
    def ratio(self) -> float:
        """The median of the rounds' ratios (without rounds: the two sides' totals)."""
        if self.rounds:
            return statistics.median(self.rounds)
        bare = self.bare["kinds"]["nu"]["per_s"]
        return self.alone["kinds"]["territoire"]["per_s"] / bare if bare else 0.0

    @property
    def spread(self) -> str:
        """The rounds' ratios, lowest to highest (« 0.24–0.31 in 4 rounds »)."""
        if len(self.rounds) < 2:
            return ""
        return f"{min(self.rounds):.2f}–{max(self.rounds):.2f} in {len(self.rounds)} rounds"

    @property
    def errors(self) -> int:
        return int(self.mixed.get("errors", 0)) + int(self.alone["errors"]) + int(self.bare["errors"]) + len(
            [t for t in self.ticks if "error" in t])


def failed(config: Configuration) -> int:
    """The ticks of a configuration's run that failed."""
    return len([t for t in config.ticks if "error" in t])


def ms(seconds: float) -> str:
    return f"{1000 * seconds:.0f}"


def judge(configs: list[Configuration]) -> list[dict[str, Any]]:
    """The figures against their targets: per configuration, no error, every act recorded once, the
    territory page's requests/s against the bare endpoint's; per people count, the territory page's
    p95 at the largest size against the smallest."""
    figures: list[dict[str, Any]] = []
    for c in configs:
        figures.append({"name": f"errors, {c.pilots} pilots, {c.people} people", "value": c.errors, "target": "0",
                        "met": c.errors == 0})
        figures.append({"name": f"acts not recorded exactly once, {c.pilots} pilots, {c.people} people",
                        "value": len(c.problems), "target": "0", "met": not c.problems})
        figures.append({"name": f"territory page req/s ÷ bare endpoint req/s, {c.pilots} pilots, {c.people} people",
                        "value": round(c.ratio, 3), "target": f"≥ {TARGET_RATIO}x", "met": c.ratio >= TARGET_RATIO})
    sizes = sorted({c.pilots for c in configs})
    for people in sorted({c.people for c in configs}):
        at = {c.pilots: c for c in configs if c.people == people}
        if len(sizes) < 2 or sizes[0] not in at or sizes[-1] not in at:
            continue
        small, large = at[sizes[0]], at[sizes[-1]]
        for run_name in ("mixed", "alone") if small.mixed and large.mixed else ("alone",):
            p_small = getattr(small, run_name)["kinds"].get("territoire", {}).get("p95", 0.0)
            p_large = getattr(large, run_name)["kinds"].get("territoire", {}).get("p95", 0.0)
            growth = p_large / p_small if p_small else float("inf")
            figures.append({"name": f"territory page p95, {sizes[-1]} vs {sizes[0]} pilots, {people} people "
                                    f"({'at work, ticks running' if run_name == 'mixed' else 'alone'})",
                            "value": round(growth, 3), "target": f"≤ {TARGET_GROWTH}x", "met": growth <= TARGET_GROWTH})
    return figures


def write_report(configs: list[Configuration], figures: list[dict[str, Any]], options: argparse.Namespace,
                 builds: dict[int, str], built: dict[int, float], started: datetime, seconds: float) -> None:
    """bench/RESULTS-load.md (or `options.out`) and results-load.json beside it."""
    lines = [
        "# The portal under load (" + ("`make bench-load-quick`, a smoke check" if options.quick
                                        else "`bench/load.py --floors`" if options.floors
                                        else "`make bench-load`") + ", bench/load.py)", "",
        f"- Date: {started:%Y-%m-%d %H:%M} UTC; the whole run took {seconds / 60:.1f} min. Machine: 2 cores, "
        f"the client, the portal, PostgreSQL and the ticks on them together; 1-minute load average read before "
        f"each run: {', '.join(f'{x:.1f}' for c in configs for x in c.load)}. "
        "Compare each figure with its floor measured in turn in the same run, not absolute values.",
        "- Requests per second count the pages served: a request the portal refused as full (503 with "
        "Retry-After) is counted apart, never as a page.",
        f"- PostgreSQL on loopback; the portal as people run it: `transitions portal --workers 2` (default "
        f"PORTAL_CONCURRENCY), one fresh copy of the programme per configuration ({', '.join(builds.values())}; "
        + (", ".join(f"{size} pilots built in {spent:.0f} s" for size, spent in built.items()) or "cached builds")
        + ": `bench.national.build`, then one tick).",
        f"- People: one persistent HTTP client each (httpx, one process), think time uniform "
        f"0–{2 * options.think:.2f} s (seeded); 60 % territories, 20 % consultants, 10 % jurors, the rest the Cerdd; "
        f"{options.double:.0%} of forms posted twice with the same token (in turn or at once).",
        f"- Runs per configuration, in this order: the bare endpoint and the territory page alone in turn, "
        f"{options.rounds} rounds of {options.floor_seconds / options.rounds:.0f} s a side in the order A B, B A… "
        f"(the ratio is the median of the rounds' ratios; their range beside it)"
        + (" only (`--floors`)." if options.floors else
        f", everyone at work with ticks ({options.seconds:.0f} s; a tick "
        f"every {options.tick_every:.0f} s, each {options.tick_hours:.0f} h later in the programme's time)."),
        "", "## Targets", ""]
    lines += table(["figure", "value", "target", "met"],
                   [[f["name"], f["value"], f["target"], "yes" if f["met"] else "**no**"] for f in figures])
    at_work = [c for c in configs if c.mixed]  # none with --floors
    if at_work:
        lines += ["", "## People at work, ticks running", ""]
        lines += table(["pilots", "people", "requests sent", "answered/s", "errors", "503 (Retry-After)",
                        "acts accepted",
                        "second posts refused (409)", "forms gone", "ticks (failed)", "recorded exactly once"],
                       [[c.pilots, c.people, c.mixed["requests"], f"{c.mixed['per_s']:.1f}", c.mixed["errors"],
                         c.mixed["busy_503"], c.mixed["acts_accepted"], c.mixed["replays_refused"], c.mixed["no_form"],
                         f"{len(c.ticks)} ({failed(c)})",
                         "yes" if not c.problems else "no: " + "; ".join(c.problems[:3])] for c in at_work])
        lines += ["", "Latency per page kind (ms):", ""]
        lines += table(["pilots", "people", "page", "requests", "req/s", "p50", "p95", "p99"],
                       [[c.pilots, c.people, kind, k["count"], f"{k['per_s']:.1f}", ms(k["p50"]), ms(k["p95"]),
                         ms(k["p99"])] for c in at_work for kind, k in c.mixed["kinds"].items()])
    lines += ["", "## The territory page beside the bare endpoint (same people, same client, in turn)", ""]
    rows = []
    for c in configs:
        b = c.bare["kinds"]["nu"]
        t = c.alone["kinds"].get("territoire", {"per_s": 0, "p50": 0, "p95": 0, "p99": 0, "busy_503": 0})
        rows.append([c.pilots, c.people, f"{b['per_s']:.0f}", ms(b["p95"]), f"{t['per_s']:.1f}", ms(t["p50"]),
                     ms(t["p95"]), ms(t["p99"]), t.get("busy_503", 0),
                     f"{c.ratio:.2f}x" + (f" ({c.spread})" if c.spread else ""),
                     c.alone["errors"] + c.bare["errors"]])
    lines += table(["pilots", "people", "bare req/s", "bare p95 ms", "territory req/s (served)", "territory p50 ms",
                    "territory p95 ms", "territory p99 ms", "territory 503 (full)", "ratio (req/s)", "errors"], rows)
    lines += ["", "## Ticks during the runs", ""] if at_work else []
    rows = []
    for c in at_work:
        durations = sorted(float(t.get("seconds", 0)) for t in c.ticks)
        rows.append([c.pilots, c.people, len(c.ticks), f"{durations[len(durations) // 2] if durations else 0.0:.2f}",
                     f"{max(durations, default=0):.2f}", sum(int(t.get("changes", 0)) for t in c.ticks), failed(c)])
    lines += table(["pilots", "people", "ticks", "median s", "max s", "changes", "failed"], rows) if at_work else []
    problems = [f"- {c.pilots} pilots, {c.people} people: {line}" for c in configs
                for line in c.mixed.get("first_errors", []) + c.alone["first_errors"] + c.problems
                + [str(t["error"]) for t in c.ticks if "error" in t]]
    if problems:
        lines += ["", "## Errors and recording problems (first ones)", "", *problems[:40]]
    options.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (options.out.parent / "results-load.json").write_text(json.dumps(
        {"figures": figures, "configurations": [c.__dict__ for c in configs]}, indent=1, default=str) + "\n",
        encoding="utf-8")
