"""Running one fuzz case: the CLI in-process against a copy of a prepared SQLite database.

A case is judged on four things: no Python traceback, no English (nor an empty message on a
refusal), a non-zero exit when the input is bad, and the database unchanged (a dump of every table
before and after). Shared by tests/fuzz/test_fuzz.py and bench/fuzz.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import signal
import sqlite3
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PROGRAMME_FILE = ROOT / "programmes" / "cerdd-2015.yaml"

# Instants at which each target is tried: inside the call, the jury's fortnight, the accompaniment.
TEMPLATE_AT = {"open": "2015-04-25T10:00", "jury": "2015-06-02T10:00", "pilots": "2015-07-02T10:00"}

# Phrases that betray an untranslated message: pydantic, click/typer, PyYAML, json, the standard
# library, jinja. Matched case-sensitively on the output with whitespace collapsed.
ENGLISH = [
    r"Traceback \(most recent call last\)", r"\bInput should\b", r"\bField required\b", r"\bExtra inputs\b",
    r"\bString should\b", r"\bValue error\b", r"\bvalue is not\b", r"\bis not a valid\b", r"\bis not one of\b",
    r"\bis not in the range\b", r"\brequires an argument\b", r"\bNo such option\b", r"\bNo such command\b",
    r"\bInvalid value\b", r"\bMissing argument\b", r"\bMissing option\b", r"\bGot unexpected extra\b",
    r"\bError:", r"\bError\b(?! :)", r"\bUsage:", r"\bTry '", r"\bAborted!", r"\bExceeds the limit\b",
    r"\binvalid literal\b", r"\bcould not\b", r"\bcannot\b", r"\bcan't\b", r"\bdoes not\b", r"\bdoesn't\b",
    r"\bmust be\b", r"\bshould be\b", r"\bout of range\b", r"\bis out of\b", r"\bnot found\b",
    r"\bNo such file or directory\b", r"\bPermission denied\b", r"\bIs a directory\b", r"\bNot a directory\b",
    r"\bFile name too long\b", r"\b[Ee]rrno\b", r"\bwhile (?:parsing|scanning|constructing)\b",
    r"\bfound (?:character|undefined|duplicate)\b", r"\bmapping values are not allowed\b",
    r"\bdid not find expected\b", r"\bExpecting (?:value|property name|',' delimiter|':' delimiter)\b",
    r"\bUnterminated string\b", r"\bExtra data\b", r"\bInvalid control character\b", r"\bunexpected\b",
    r"\bexpected\b", r"\bundefined\b", r"\bhas no attribute\b", r"\bNoneType\b", r"\b\w+Error: ",
    r"\bmaximum recursion\b", r"\bthe\b", r"\bshould\b", r"\binvalid\b", r"\bInvalid\b", r"\brequired\b",
]
_ENGLISH = [re.compile(p) for p in ENGLISH]
_INTERNAL_NAME = re.compile(r"\(\w+(?:Error|Exception|Overflow\w*)\)")  # « Erreur interne inattendue (X) »


def english_phrases(output: str) -> list[str]:
    """English phrases found in an output (paths and echoed inputs are the caller's to avoid)."""
    text = _INTERNAL_NAME.sub("", " ".join(output.split()))
    return sorted({m.group(0) for pattern in _ENGLISH for m in [pattern.search(text)] if m})


class CaseTimeout(BaseException):
    """Raised by the alarm when a case runs past its limit (a BaseException: no handler eats it)."""


@contextlib.contextmanager
def alarm(seconds: float) -> Iterator[None]:
    def ring(signum: int, frame: FrameType | None) -> None:
        raise CaseTimeout()

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Outcome:
    exit_code: int
    output: str
    seconds: float
    traceback: str | None = None
    timed_out: bool = False
    english: list[str] = field(default_factory=list)
    changed_tables: list[str] = field(default_factory=list)

    def problems(self, expect_refusal: bool) -> dict[str, str]:
        """Each broken promise, by category, with a short explanation."""
        found: dict[str, str] = {}
        if self.traceback is not None or "Traceback (most recent call last)" in self.output:
            found["traceback"] = (self.traceback or self.output).strip().splitlines()[-1][:200]
        if self.timed_out:
            found["hang"] = f"no answer after {self.seconds:.1f} s"
        elif self.seconds > 1.0:  # for bench/fuzz.py's report only: the tests do not judge speed
            found["slow"] = f"{self.seconds:.2f} s"
        if self.english:
            found["english"] = ", ".join(self.english)
        if self.exit_code != 0 and not self.output.strip() and not self.timed_out:
            found["silent"] = f"exit {self.exit_code} without a message"
        if self.exit_code == 70:
            found["internal"] = " ".join(self.output.split())[:200]
        if expect_refusal and self.exit_code == 0:
            found["accepted"] = " ".join(self.output.split())[:200]
        if self.changed_tables:
            found["db_changed"] = ", ".join(self.changed_tables)
        return found


def dump(db_file: Path) -> dict[str, str]:
    """A digest of every table's rows (and of the schema), to tell whether anything changed."""
    connection = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        digests = {"<schema>": hashlib.sha256(repr(sorted(connection.execute(
            "SELECT type, name, sql FROM sqlite_master").fetchall(), key=repr)).encode()).hexdigest()}
        for table in tables:
            rows = sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            digests[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return digests
    finally:
        connection.close()


class Harness:
    """A work directory with prepared databases (templates) and a case directory cleared each time."""

    def __init__(self, work: Path, timeout: float = 10.0) -> None:
        self.work = work
        self.timeout = timeout
        self.templates = work / "templates"
        self.case_dir = work / "case"
        self.db = work / "case.db"
        self.url = f"sqlite:///{self.db}"
        self._dumps: dict[str, dict[str, str]] = {}
        os.environ.update({"DATABASE_URL": self.url, "OUTBOX_DIR": str(work / "outbox"), "COLUMNS": "200",
                           "DATA_DIR": str(work / "var"),
                           "PREFECT_HOME": os.environ.get("PREFECT_HOME") or str(work / "prefect")})
        os.environ.pop("PREFECT_API_URL", None)
        from config.settings import SOURCE_ROOT, reset_settings

        assert SOURCE_ROOT == ROOT, f"the product imported is {SOURCE_ROOT}, not this checkout ({ROOT})"
        reset_settings()

    # -- prepared databases --------------------------------------------------------------------

    def prepare(self) -> None:
        """Build the three prepared databases (once per work directory)."""
        if (self.templates / "pilots.db").exists():
            return
        self.templates.mkdir(parents=True, exist_ok=True)
        self._fresh()
        self._cli("init", "--at", "2015-04-01T09:00")
        self._advance("2015-04-02T09:00")
        self._cli("submit", str(EXAMPLES / "candidature-cu-arras.yaml"), "--at", "2015-04-20T10:00")
        self._cli("submit", str(EXAMPLES / "candidature-ca-lens-lievin-v1.yaml"), "--at", "2015-04-21T10:00")
        self._cli("submit", str(EXAMPLES / "candidature-commune-bethune.yaml"), "--at", "2015-04-21T11:00")
        self._cli("announce", "200040947", "--contact", "Marie Declercq", "--email", "m.declercq@example.org",
                  "--at", "2015-04-22T09:00")
        self._advance("2015-04-24T09:00")
        self._save("open")
        self._cli("submit", str(EXAMPLES / "candidature-ca-lens-lievin-v2.yaml"), "--at", "2015-04-28T10:00")
        self._cli("submit", str(EXAMPLES / "candidature-cc-flandre-interieure.yaml"), "--at", "2015-04-29T10:00")
        self._advance("2015-05-07T12:00")
        self._cli("jury", "score", str(EXAMPLES / "jury" / "notes-dreal.yaml"), "--at", "2015-06-01T16:00")
        self._save("jury")
        self._cli("jury", "score", str(EXAMPLES / "jury" / "notes-region.yaml"), "--at", "2015-06-02T10:00")
        self._cli("jury", "score", str(EXAMPLES / "jury" / "notes-cerdd.yaml"), "--at", "2015-06-03T14:00")
        self._advance("2015-06-04T14:00")
        self._cli("jury", "decide", "--secretary", "Emmanuel Bertin", "--confirm", "--at", "2015-06-04T14:30")
        for party, who, when in (("territoire", "Jean-Marc Lefebvre", "2015-06-12T11:00"),
                                 ("cerdd", "Emmanuel Bertin", "2015-06-15T09:30"),
                                 ("prestataire", "Cheffe de projet du prestataire", "2015-06-16T14:00")):
            self._cli("sign", "200033579", "--party", party, "--signatory", who, "--at", when)
        self._advance("2015-07-01T09:30")
        self._cli("deliverable", "200033579", "methode", "--at", "2015-07-01T16:00")
        self._save("pilots")

    def _fresh(self) -> None:
        from models.db import dispose_engines

        dispose_engines()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.db}{suffix}").unlink(missing_ok=True)

    def _cli(self, *argv: str) -> None:
        outcome = self.invoke(list(argv))
        assert outcome.exit_code == 0, (argv, outcome.output, outcome.traceback)

    def _advance(self, when: str) -> None:
        """What a tick does, without Prefect: every stage at that instant, then the outbox."""
        from flows.plain import run_tick_plain
        from models.clock import parse_instant

        run_tick_plain(parse_instant(when))

    def _save(self, name: str) -> None:
        from models.db import dispose_engines

        dispose_engines()
        shutil.copyfile(self.db, self.templates / f"{name}.db")

    def template_dump(self, name: str) -> dict[str, str]:
        if name not in self._dumps:
            self._dumps[name] = dump(self.templates / f"{name}.db")
        return self._dumps[name]

    # -- one case ------------------------------------------------------------------------------

    def restore(self, template: str) -> None:
        self._fresh()
        shutil.copyfile(self.templates / f"{template}.db", self.db)
        shutil.rmtree(self.case_dir, ignore_errors=True)
        shutil.copytree(EXAMPLES / "pieces", self.case_dir / "pieces")
        (self.case_dir / "dossier").mkdir()
        (self.case_dir / "binaire.yaml").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
        (self.case_dir / "notes.txt").write_text("pas un dossier\n", encoding="utf-8")

    def run(self, template: str, argv: list[str], files: dict[str, bytes]) -> Outcome:
        """Restore `template`, write `files` into the case directory, run `argv` there, compare."""
        self.restore(template)
        for name, content in files.items():
            (self.case_dir / name).write_bytes(content)
        environment = dict(os.environ)
        outcome = self.invoke(argv, cwd=self.case_dir)
        if dict(os.environ) != environment:  # a command that points the settings elsewhere (the demo does)
            os.environ.clear()
            os.environ.update(environment)
        from config.settings import reset_settings

        reset_settings()
        if argv[:1] == ["schema"] and outcome.exit_code == 0:
            outcome.english = []  # a JSON Schema's keywords are English by definition
        from models.db import dispose_engines

        dispose_engines()
        after = dump(self.db)
        before = self.template_dump(template)
        outcome.changed_tables = sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))
        return outcome

    def invoke(self, argv: list[str], cwd: Path | None = None) -> Outcome:
        """The installed command's behaviour, in-process: what it prints, its exit code, any traceback."""
        from transitions.cli import main

        stdout, stderr = io.StringIO(), io.StringIO()
        code, trace, timed_out = 0, None, False
        started = time.perf_counter()
        with contextlib.ExitStack() as stack:
            stack.enter_context(contextlib.redirect_stdout(stdout))
            stack.enter_context(contextlib.redirect_stderr(stderr))
            if cwd is not None:
                stack.enter_context(contextlib.chdir(cwd))
            try:
                with alarm(self.timeout):
                    main(argv)
            except SystemExit as exit_:
                code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
            except CaseTimeout:
                code, timed_out = -1, True
            except BaseException:  # what the installed command would die of, with a traceback
                code, trace = 1, traceback.format_exc()
        seconds = time.perf_counter() - started
        output = stdout.getvalue() + stderr.getvalue()
        return Outcome(code, output, seconds, trace, timed_out, english_phrases(output))

