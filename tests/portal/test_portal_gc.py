"""Each portal process collects garbage less often than Python's default (`server.collect_less`):
what start-up made is frozen out of collections, and a young collection waits for 50,000 objects."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from config.settings import SOURCE_ROOT

PROBE = """
import gc, json
from transitions.portal.server import GC_THRESHOLDS, portal_app
before = gc.get_threshold()
portal_app()
print(json.dumps({"before": before, "after": gc.get_threshold(), "frozen": gc.get_freeze_count(),
                  "wanted": GC_THRESHOLDS}))
"""


def test_the_portal_process_made_by_its_factory_collects_less_and_freezes_its_start_up(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 't.db'}", "DATA_DIR": str(tmp_path),
           "PORTAL_SECRET": secrets.token_urlsafe(48), "PYTHONPATH": str(SOURCE_ROOT)}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["before"] == [700, 10, 10]  # Python's own, until the factory runs
    assert seen["after"] == seen["wanted"] == [50_000, 20, 10]
    assert seen["frozen"] > 10_000  # modules, templates: out of every collection
