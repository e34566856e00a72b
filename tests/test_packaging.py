"""A wheel is enough: installed outside the checkout, `transitions demo` replays the 2015
programme from the defaults the wheel carries, reading nothing from the source tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.prefect


def test_a_wheel_installed_elsewhere_runs_the_demo(tmp_path: Path) -> None:
    source = tmp_path / "source"  # a clean copy: no stale build/ of the checkout ends up in the wheel
    shutil.copytree(PROJECT_ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "var", "build", "*.egg-info", "__pycache__", ".mypy_cache", ".ruff_cache"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(wheels), str(source)], check=True, cwd=tmp_path, capture_output=True)
    wheel = next(wheels.glob("transitions-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "config/defaults/programmes/cerdd-2015.yaml" in names
    assert "models/migrations/versions/0001_initial_schema.py" in names

    # A fresh environment: the wheel in its own site-packages, the dependencies borrowed from ours.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")

    elsewhere = tmp_path / "ailleurs"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "OUTBOX_DIR", "PROGRAMMES_DIR"))}
    env["PYTHONPATH"] = ""
    where = "import models, config.settings as s; print(models.__file__); print(s.packaged_defaults())"
    probe = subprocess.run([python, "-c", where], cwd=elsewhere, env=env, check=True, capture_output=True,
                           text=True).stdout.split()
    assert all(path.startswith(str(site)) for path in probe), probe  # nothing imported from the checkout
    demo = subprocess.run([python, "-c", "from transitions.cli import main; main()",
                           "demo", "--out", "replay"], cwd=elsewhere, env=env, capture_output=True, text=True,
                          timeout=600)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Traceback" not in demo.stdout + demo.stderr
    assert (elsewhere / "replay" / "bilan.md").is_file()
    assert len(list((elsewhere / "replay" / "outbox").glob("*.eml"))) > 200
