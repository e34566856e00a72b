"""bench/compare.py judges repeatability on the headline ratios only, both wall and CPU."""

from __future__ import annotations

import json
from pathlib import Path

from bench.compare import compare


def _run(path: Path, **ratios: tuple[float, float | None]) -> Path:
    path.write_text(json.dumps([{"name": name.replace("_", " "), "ratio": wall, "cpu_ratio": cpu, "cpu": 0.9}
                                for name, (wall, cpu) in ratios.items()]), encoding="utf-8")
    return path


def test_a_headline_ratio_that_moves_past_the_tolerance_fails(tmp_path: Path) -> None:
    first = _run(tmp_path / "a.json", busy_tick=(1.8, 1.6), next_instant=(9.0, 9.0))
    second = _run(tmp_path / "b.json", busy_tick=(1.9, 1.9), next_instant=(20.0, 20.0))
    lines, ok = compare(first, second, 0.15)
    assert not ok  # the CPU ratio moved by 19%
    assert any(line.startswith("| busy tick | CPU |") and "**no**" in line for line in lines)
    assert any(line.startswith("| next instant | wall |") and line.endswith("| – |") for line in lines)


def test_runs_within_the_tolerance_pass_and_missing_sides_are_skipped(tmp_path: Path) -> None:
    first = _run(tmp_path / "a.json", delivery=(0.73, 0.44), submit=(2.0, None))
    second = _run(tmp_path / "b.json", delivery=(0.63, 0.38), submit=(1.9, 1.8))
    lines, ok = compare(first, second, 0.15)
    assert ok
    assert [line.split(" | ")[1] for line in lines[2:]] == ["wall", "CPU", "wall"]
