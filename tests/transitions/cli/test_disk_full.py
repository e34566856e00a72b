"""A full disk told as a full disk (issue 25): the command names the disk and the folder, never
« base injoignable … DATABASE_URL », and records nothing. The database's disk: SQLite itself
refusing to grow the file (its own « database or disk is full »). The outbox's disk: a real file
system of 1 MiB (tmpfs, mounted by root; skipped where mounting is not permitted) filled up."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from config.settings import reset_settings
from models.db import dispose_engines
from models.failures import mount_point
from models.tables import Application, Notice
from tests.conftest import EXAMPLES, open_call
from tests.outages import fill_database
from tests.portal.helpers import count
from transitions.cli import app

runner = CliRunner()
SUBMIT = ["submit", str(EXAMPLES / "candidature-cu-arras.yaml"), "--at", "2015-04-20T10:00"]


def squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_full_database_disk_names_the_disk_and_the_folder(loaded: str, tmp_path: Path) -> None:
    open_call(loaded)
    fill_database(loaded)
    before = count(loaded, Application), count(loaded, Notice)
    result = runner.invoke(app, SUBMIT)
    words = squeezed(result.output)  # the terminal's width cuts long paths anywhere
    assert result.exit_code == 5, result.output
    assert squeezed(f"Le disque qui porte {tmp_path} est plein (système de fichiers monté sur "
                    f"{mount_point(tmp_path)})") in words
    assert "DATABASE_URL" not in words and "injoignable" not in words and "Traceback" not in words
    dispose_engines()
    assert (count(loaded, Application), count(loaded, Notice)) == before


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A file system of 1 MiB (tmpfs), unmounted afterwards; skipped when mounting is not permitted."""
    mount = tmp_path / "petit-disque"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("monter un petit système de fichiers demande root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"montage tmpfs refusé ici : {done.stderr.strip()[:200]}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> None:
    """Write into `folder` until its disk refuses (ENOSPC)."""
    with (folder / "remplissage").open("wb", buffering=0) as handle:
        for size in (65536, 4096, 1):
            try:
                while True:
                    handle.write(b"\0" * size)
            except OSError:
                continue


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_full_outbox_disk_is_named_and_its_notices_wait(loaded: str, small_disk: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    outbox = small_disk / "outbox"
    outbox.mkdir()
    monkeypatch.setenv("OUTBOX_DIR", str(outbox))
    reset_settings()
    open_call(loaded)  # three notices to the Cerdd's contacts, waiting
    fill(small_disk)
    result = runner.invoke(app, ["outbox", "deliver", "--at", "2015-04-02T09:05"])
    words = squeezed(result.output)  # the terminal's width cuts long paths anywhere
    assert result.exit_code == 0, result.output  # a channel down is said, not an error (README, exit codes)
    assert squeezed(f"Le disque qui porte {outbox} est plein (système de fichiers monté sur {small_disk})") in words
    assert "DATABASE_URL" not in words and "Traceback" not in words
    assert sorted(p.name for p in outbox.iterdir()) == []  # no half-written file left
    (small_disk / "remplissage").unlink()
    again = runner.invoke(app, ["outbox", "deliver", "--at", "2015-04-03T09:05"])  # the one tried: after its delay
    assert again.exit_code == 0 and len(list(outbox.glob("*.eml"))) == 3, again.output
