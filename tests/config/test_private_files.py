"""Files for their owner only (issue 24, item 5): what exists under the data directory is tightened
at start, with one French warning naming how many and where; nothing outside it is touched."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from config.private_files import secure_start, sqlite_file, tighten
from config.settings import Settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _open_to_all(data: Path, outside: Path) -> None:
    """A data directory as an earlier version left it (umask 022), a link in it to a file outside."""
    (data / "outbox").mkdir(parents=True)
    for path in (data / "transitions.db", data / "transitions.db-wal", data / "erreurs.log",
                 data / "outbox" / "avis.eml"):
        path.write_text("x", encoding="utf-8")
        path.chmod(0o644)
    (data / "outbox").chmod(0o755)
    (data / "script.sh").write_text("#!/bin/sh\n", encoding="utf-8")
    (data / "script.sh").chmod(0o755)
    outside.write_text("le programme, pas une donnée", encoding="utf-8")
    outside.chmod(0o644)
    (data / "lien").symlink_to(outside)
    data.chmod(0o755)


def test_what_others_could_read_is_tightened_with_one_french_warning(tmp_path: Path) -> None:
    data, outside = tmp_path / "var", tmp_path / "programme.yaml"
    _open_to_all(data, outside)
    warnings = secure_start(Settings(data_dir=data))
    assert warnings == [f"5 fichiers et 2 dossiers de {data} étaient lisibles par d'autres comptes : leurs droits "
                        "sont réduits au seul propriétaire (0600 pour les fichiers et 0700 pour les dossiers)."]
    assert {p.name: _mode(p) for p in data.rglob("*") if not p.is_symlink()} == {
        "transitions.db": 0o600, "transitions.db-wal": 0o600, "erreurs.log": 0o600, "outbox": 0o700,
        "avis.eml": 0o600, "script.sh": 0o700}
    assert _mode(data) == 0o700
    assert _mode(outside) == 0o644  # reached by a link, outside the data directory: left alone
    assert secure_start(Settings(data_dir=data)) == []  # once is enough: nothing more to say
    assert os.umask(0o077) == 0o077  # and the process creates what follows for its owner only


def test_a_file_of_another_account_is_named_never_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "var"
    data.mkdir(mode=0o700)
    theirs = data / "rapport.html"
    theirs.write_text("x", encoding="utf-8")
    theirs.chmod(0o644)
    real = os.chmod

    def not_the_owner(path: object, mode: int, **kwargs: object) -> None:
        if Path(str(path)) == theirs:
            raise PermissionError(1, "Operation not permitted")
        real(path, mode, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "chmod", not_the_owner)
    lines = tighten(data).warnings()
    assert len(lines) == 1 and str(theirs) in lines[0] and "ce compte n'en est pas le propriétaire" in lines[0]
    assert _mode(theirs) == 0o644


def test_a_database_outside_the_data_directory_is_tightened_but_not_its_folder(tmp_path: Path) -> None:
    data, elsewhere = tmp_path / "var", tmp_path / "bases"
    data.mkdir(mode=0o700)
    elsewhere.mkdir()
    elsewhere.chmod(0o755)
    for name in ("t.db", "t.db-shm", "autre.txt"):
        (elsewhere / name).write_text("x", encoding="utf-8")
        (elsewhere / name).chmod(0o644)
    url = f"sqlite:///{elsewhere / 't.db'}"
    assert sqlite_file(url) == elsewhere / "t.db" and sqlite_file("postgresql+psycopg://x@h/db") is None
    warnings = secure_start(Settings(data_dir=data, database_url=url))
    assert len(warnings) == 2 and all("0600 pour les fichiers)" in w for w in warnings)
    assert [_mode(elsewhere / n) for n in ("t.db", "t.db-shm", "autre.txt")] == [0o600, 0o600, 0o644]
    assert _mode(elsewhere) == 0o755


def test_every_command_tightens_the_data_directory_at_start_and_says_so(tmp_path: Path) -> None:
    data, outside = tmp_path / "var", tmp_path / "programme.yaml"
    _open_to_all(data, outside)
    env = {**os.environ, "DATA_DIR": str(data), "DATABASE_URL": f"sqlite:///{data / 'transitions.db'}",
           "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run([sys.executable, "-c", "from transitions.cli import main; main()", "schema", "application"],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    said = " ".join(done.stderr.split())
    assert f"Attention : 5 fichiers et 2 dossiers de {data} étaient lisibles par d'autres comptes" in said, done.stderr
    assert "Traceback" not in done.stderr and _mode(data / "erreurs.log") == 0o600
    assert _mode(tmp_path / "prefect") == 0o700  # created by the command, under its umask
