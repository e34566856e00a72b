"""Files only for their owner (issue 24, item 5): every process of Transitions creates its files
0600 and its folders 0700, and tightens what it finds under the data directory at start.

The database, the outbox's messages, uploads, reports, exports, logs and Prefect's home hold
personal data and live personal links (valid for months): another local account that can read
them can act as anyone. `private_umask` is the one place the process mask is set (umask 0o077:
whatever a library creates, with `open`, `os.open(…, 0o666)`, `mkdir`, SQLite's -wal and -shm,
the Prefect server it starts, comes out for the owner only); `tighten` removes the group's and
others' bits from what already exists under the data directory (`Settings.data_dir`,
`Settings.outbox_dir`, and the SQLite database with its -wal, -shm and -journal files where it lives
elsewhere: only those files, not the folder's other files, which are not ours). Symbolic links are
neither followed nor changed. `secure_start` does both and returns the French warnings to show.

A leaf beside the settings: imports nothing of the project but them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from config.settings import Settings, get_settings

PRIVATE_UMASK = 0o077
"""Nothing for the group, nothing for others: files 0600, folders 0700."""
SHARED_BITS = 0o077
SHOWN = 5
"""Files the process may not change named at most in a warning (then « et N autres »)."""


def private_umask() -> None:
    """Set the process's umask to 0o077 (idempotent; inherited by the processes it starts)."""
    os.umask(PRIVATE_UMASK)


@dataclass
class Tightened:
    """What `tighten` did under one root: files and folders whose mode it reduced, and the paths it
    could not change (another account's)."""

    root: Path
    files: int = 0
    folders: int = 0
    refused: list[Path] = field(default_factory=list)

    def warnings(self) -> list[str]:
        """French lines: how many and where; every file that could not be changed, named."""
        lines = []
        if self.files or self.folders:
            what = " et ".join(part for part in (_count(self.files, "fichier"), _count(self.folders, "dossier"))
                               if part)
            modes = " et ".join(mode for mode, n in (("0600 pour les fichiers", self.files),
                                                     ("0700 pour les dossiers", self.folders)) if n)
            lines.append(f"{what} de {self.root} étaient lisibles par d'autres comptes : leurs droits sont "
                         f"réduits au seul propriétaire ({modes}).")
        if self.refused:
            named = ", ".join(str(p) for p in self.refused[:SHOWN])
            more = f" et {len(self.refused) - SHOWN} autre(s)" if len(self.refused) > SHOWN else ""
            lines.append(f"{len(self.refused)} élément(s) de {self.root} restent lisibles par d'autres comptes : "
                         f"ce compte n'en est pas le propriétaire et ne peut pas en changer les droits "
                         f"({named}{more}). Corrigez-les avec le compte propriétaire (chmod go-rwx).")
        return lines


def _count(n: int, noun: str) -> str:
    return "" if not n else f"{n} {noun}{'s' if n > 1 else ''}"


def sqlite_file(database_url: str) -> Path | None:
    """The SQLite database file a URL names (`sqlite:///relative.db`, `sqlite:////absolute.db`), or
    None (PostgreSQL, an in-memory database)."""
    if not database_url.startswith("sqlite") or ":///" not in database_url:
        return None
    name = database_url.split(":///", 1)[1].split("?", 1)[0]
    return None if not name or name == ":memory:" else Path(name).resolve()


def roots(settings: Settings) -> list[tuple[Path, bool]]:
    """What `tighten` walks: (path, whole tree?) for the data directory, the outbox's folder when
    it lies outside it, and the SQLite file with its companions when it lies outside both."""
    trees = [settings.data_dir]
    if not settings.outbox_dir.is_relative_to(settings.data_dir):
        trees.append(settings.outbox_dir)
    found: list[tuple[Path, bool]] = [(tree, True) for tree in trees]
    database = sqlite_file(settings.database_url)
    if database is not None and not any(database.is_relative_to(tree) for tree in trees):
        found += [(database.with_name(database.name + suffix), False) for suffix in ("", "-wal", "-shm", "-journal")]
    return found


def _walk(root: Path, whole: bool) -> Iterator[tuple[Path, os.stat_result]]:
    """Every entry under `root` (itself included) with its own status; symbolic links left out."""
    try:
        top = os.lstat(root)
    except OSError:
        return
    if stat.S_ISLNK(top.st_mode):
        return
    yield root, top
    if not (whole and stat.S_ISDIR(top.st_mode)):
        return
    for folder, dirs, files in os.walk(root, followlinks=False):
        for name in [*dirs, *files]:
            path = Path(folder, name)
            try:
                status = os.lstat(path)
            except OSError:  # gone meanwhile
                continue
            if not stat.S_ISLNK(status.st_mode):
                yield path, status


def tighten(root: Path, *, whole: bool = True) -> Tightened:
    """Remove the group's and others' bits from `root` and, when `whole`, everything under it
    (files keep their owner's bits: 0644 becomes 0600, 0755 becomes 0700). A path this account
    cannot change (another's) is listed in `refused`, never raised."""
    done = Tightened(root)
    for path, status in _walk(root, whole):
        if not status.st_mode & SHARED_BITS:
            continue
        try:  # not a link (checked by `_walk`): Linux has no lchmod
            os.chmod(path, stat.S_IMODE(status.st_mode) & ~SHARED_BITS)
        except OSError:
            done.refused.append(path)
            continue
        if stat.S_ISDIR(status.st_mode):
            done.folders += 1
        else:
            done.files += 1
    return done


def secure_start(settings: Settings | None = None) -> list[str]:
    """What every process of Transitions does at start: umask 0o077, then the data directory's
    existing files and folders tightened. Returns the French warnings to show (none when nothing
    was open to others)."""
    private_umask()
    settings = settings or get_settings()
    warnings: list[str] = []
    for root, whole in roots(settings):
        warnings += tighten(root, whole=whole).warnings()
    return warnings
