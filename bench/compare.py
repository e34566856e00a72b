"""Compare two `make bench` runs: is each published ratio repeatable?

Usage: `.venv/bin/python bench/compare.py FIRST/results.json SECOND/results.json [--tolerance 0.15]
[--markdown OUT.md]`. For every figure present in both runs with a published ratio (wall, and CPU
where measured), prints both ratios and their relative difference (|b - a| / a); exits 1 when a
headline ratio differs by more than the tolerance, so the check can be scripted. Figures whose
targets are absolute (`transitions status` cold, in CPU seconds) are compared on their value.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HEADLINES = ("idle tick", "busy tick", "submit", "delivery", "2015 replay", "transitions status")
"""Figures whose repeatability issue 19 asks for (by the start of their name)."""


def _figures(path: Path) -> dict[str, dict[str, Any]]:
    return {figure["name"]: figure for figure in json.loads(path.read_text(encoding="utf-8"))}


def _pairs(figure: dict[str, Any]) -> list[tuple[str, float | None]]:
    if figure["name"].startswith("transitions status"):
        return [("CPU s", figure.get("cpu"))]
    return [("wall", figure.get("ratio")), ("CPU", figure.get("cpu_ratio"))]


def compare(first: Path, second: Path, tolerance: float) -> tuple[list[str], bool]:
    """Markdown lines of the comparison, and whether every headline figure is within `tolerance`."""
    a, b = _figures(first), _figures(second)
    lines = ["| figure | measure | first run | second run | difference | within |",
             "| --- | --- | --- | --- | --- | --- |"]
    ok = True
    for name, figure in a.items():
        if name not in b:
            continue
        headline = name.startswith(HEADLINES)
        for (measure, x), (_, y) in zip(_pairs(figure), _pairs(b[name]), strict=True):
            if x is None or y is None or x == 0:
                continue
            difference = abs(y - x) / x
            within = difference <= tolerance
            ok = ok and (within or not headline)
            mark = ("yes" if within else "**no**") if headline else "–"
            lines.append(f"| {name} | {measure} | {x:.3g} | {y:.3g} | {difference:.0%} | {mark} |")
    return lines, ok


def main() -> None:
    parser = argparse.ArgumentParser(description="Two bench runs, ratio by ratio.")
    parser.add_argument("first", type=Path)
    parser.add_argument("second", type=Path)
    parser.add_argument("--tolerance", type=float, default=0.15)
    parser.add_argument("--markdown", type=Path, default=None)
    args = parser.parse_args()
    lines, ok = compare(args.first, args.second, args.tolerance)
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.markdown is not None:
        args.markdown.write_text(text, encoding="utf-8")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
