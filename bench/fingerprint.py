"""The 2015 replay's fingerprint: every row of every table, every message left in the outbox.

A reorganisation that claims « behaviour unchanged » shows it with this: the fingerprint before and
after must be equal. The replay runs as plain functions (`flows.plain.run_tick_plain`, no Prefect)
on SQLite in a temporary folder; the demo's closing step that prints personal links at the real
time is left out (it is not part of the replay). The notices' links are pinned: a fixed portal
secret (`SECRET`) and a fixed real instant they are issued at (`LINK_CLOCK`), so two runs print
the same fingerprint.

Usage:
    .venv/bin/python bench/fingerprint.py                 # prints one SHA-256 per table and the whole
    .venv/bin/python bench/fingerprint.py --dump FILE     # also writes the canonical text, to diff two runs
    .venv/bin/python bench/fingerprint.py --rename old=new ...   # reads `old` as `new` in values (a
                                                          # renamed stored word), to compare across a rename
Exit 0; the digest is printed last as « fingerprint <sha256> ».
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
WORK = Path(tempfile.mkdtemp(prefix="transitions-fingerprint-"))
for key in ("DATABASE_URL", "OUTBOX_DIR", "NOTICE_CHANNEL", "PREFECT_HOME", "PORTAL_SECRET", "DATA_DIR"):
    os.environ.pop(key, None)


SECRET = "Vb7Qk2Lx9Pz4Mw6Rt1Jn8Hc3Gd5Fs0Ya2Ue4Ko7"
"""The demo's portal secret, pinned (the demo draws a random one)."""
LINK_CLOCK = "2026-01-05T09:00:00+00:00"
"""The real instant the notices' links are issued at, pinned (their expiry is written in them)."""
REAL_TIME = frozenset({"recorded_at", "personal_parts", "personal_sha256", "prev_hash", "entry_hash", "token"})
"""Columns written with the real time of the run, not the replay's instant, or drawn at random: left
out (the audit chain's hashes cover `recorded_at`, its personal part's hash a random salt; a pilot
change's `token` is drawn by the database's trigger)."""
BOUNDARY = re.compile(r"={15}\d+==")
"""MIME boundaries are random: replaced by one placeholder."""


def canonical(value: object) -> str:
    """One line per value: bytes as their SHA-256, everything else as its repr."""
    if isinstance(value, bytes | bytearray | memoryview):
        return "sha256:" + hashlib.sha256(bytes(value)).hexdigest()
    return repr(value)


def replay_and_dump(renames: list[tuple[str, str]]) -> list[tuple[str, list[str]]]:
    from datetime import datetime

    from rich.console import Console
    from sqlalchemy import create_engine, inspect, text

    import notifications.render as render
    import transitions.demo as demo
    from flows.plain import run_tick_plain
    from models.db import dispose_engines

    demo.portal_links = lambda *args, **kwargs: []  # type: ignore[assignment]  # links at the real time
    render._utc_now = lambda: datetime.fromisoformat(LINK_CLOCK)  # the links' real instant, pinned
    out = WORK / "demo"
    demo.run_demo(out, Console(file=io.StringIO(), width=120), tick=run_tick_plain, secret=SECRET)
    dispose_engines()

    def renamed(line: str) -> str:
        for old, new in renames:
            line = line.replace(old, new)
        return line

    sections: list[tuple[str, list[str]]] = []
    engine = create_engine(f"sqlite:///{out / 'transitions.db'}")
    with engine.connect() as connection:
        for table in sorted(inspect(connection).get_table_names()):
            columns = [c["name"] for c in inspect(connection).get_columns(table)]
            rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
            lines = sorted(renamed("\t".join(f"{c}={canonical(v)}" for c, v in zip(columns, row, strict=True)
                                              if c not in REAL_TIME))
                           for row in rows)
            sections.append((table, lines))
    engine.dispose()
    messages = sorted((out / "outbox").rglob("*"))
    sections.append(("outbox", [renamed(BOUNDARY.sub("=BOUNDARY=", f"{p.relative_to(out)}\n"
                                                     f"{p.read_bytes().decode('utf-8', 'replace')}"))
                                for p in messages if p.is_file()]))
    return sections


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dump", type=Path, help="write the canonical text here")
    parser.add_argument("--rename", action="append", default=[], metavar="OLD=NEW")
    arguments = parser.parse_args()
    renames = [tuple(item.split("=", 1)) for item in arguments.rename]
    sections = replay_and_dump(renames)  # type: ignore[arg-type]
    whole = hashlib.sha256()
    dump: list[str] = []
    for name, lines in sections:
        body = "\n".join(lines)
        digest = hashlib.sha256(body.encode()).hexdigest()
        whole.update(f"{name}\n{digest}\n".encode())
        print(f"{name:32} {len(lines):6} {digest[:16]}")
        dump.append(f"### {name} ({len(lines)})\n{body}\n")
    if arguments.dump:
        arguments.dump.write_text("\n".join(dump), encoding="utf-8")
    print(f"fingerprint {whole.hexdigest()}")


if __name__ == "__main__":
    main()
