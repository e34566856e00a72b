"""One registry of stages: every name of the enum is bound to one function and its planned
instants, in tick order, and nothing else runs."""

from __future__ import annotations

import subprocess
import sys

from models.schedule import STAGES
from models.stages import LABELS, REGISTRY, StageName
from tests.conftest import PROJECT_ROOT


def test_every_stage_name_has_its_function_and_plan_in_tick_order() -> None:
    assert [stage.name for stage in STAGES] == list(StageName)
    assert set(REGISTRY) == set(StageName) == set(LABELS)
    assert all(stage.run.__module__.startswith("models.") and callable(stage.planned) for stage in STAGES)


def test_a_stage_named_but_bound_to_no_function_stops_the_start() -> None:
    """A stage added to the enum and forgotten in its concept module is never silently skipped."""
    code = ("import models.stages as s\n"
            "s.StageName = s.StrEnum('StageName', [(m.name, m.value) for m in s.StageName] + [('NEW', 'nouvelle')])\n"
            "import models.schedule\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert done.returncode != 0 and "stages without a function: nouvelle" in done.stderr
