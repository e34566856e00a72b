"""Packaging hook: a wheel carries the embedded defaults (programmes/, data/, demo/, examples/)
inside the package as `config/defaults/` (where `config.settings.packaged_defaults` finds them),
so that an installed `transitions demo` runs anywhere. Everything else is declared in
pyproject.toml."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

DEFAULTS = ("programmes", "data", "demo", "examples")


class BuildWithDefaults(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads them from the checkout
        root = Path(__file__).resolve().parent
        target = Path(self.build_lib) / "config" / "defaults"
        for name in DEFAULTS:
            shutil.rmtree(target / name, ignore_errors=True)
            shutil.copytree(root / name, target / name)


setup(cmdclass={"build_py": BuildWithDefaults})
