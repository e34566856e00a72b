"""What some tests need from the machine, and the one reason each family gives when it is missing.

Every test skipped for the same missing thing gives the same reason, word for word, so that the
end-of-run summary (tests/conftest.py, `pytest_terminal_summary`) counts them on one line, e.g.
« 241 ignorés : PostgreSQL absent, voir TEST_DATABASE_URL ». Kept free of heavy imports.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

NO_POSTGRES = "PostgreSQL absent, voir TEST_DATABASE_URL"
NO_CHROMIUM = "Chromium absent, voir le paquet Debian « chromium »"
NO_PLAYWRIGHT = "Playwright absent, voir pip install -e '.[dev]'"
NO_SOFFICE = "LibreOffice absent, voir le paquet Debian « libreoffice-writer-nogui »"

NO_DOVECOT = "Dovecot absent, voir le paquet Debian « dovecot-imapd »"
DOVECOT = next((p for p in (shutil.which("dovecot"), "/usr/sbin/dovecot") if p and Path(p).exists()), None)
"""Debian's Dovecot, which the mailbox tests start privately on loopback; None when not installed."""

CHROMIUM = next((p for p in (shutil.which("chromium"), "/usr/bin/chromium") if p and Path(p).exists()), None)
"""Debian's Chromium, which the browser tests drive through Playwright; None when not installed."""


def soffice_path() -> str:
    """LibreOffice's `soffice`, or the test is skipped (with the LibreOffice family's reason)."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        pytest.skip(NO_SOFFICE)
    return found


def postgres_url() -> str:
    """TEST_DATABASE_URL, or the test is skipped (with the PostgreSQL family's reason)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        pytest.skip(NO_POSTGRES)
    return url


def playwright_api():  # noqa: ANN201 — the module, typed as Any by its users
    """playwright.sync_api, or the test is skipped (with the Playwright family's reason)."""
    return pytest.importorskip("playwright.sync_api", reason=NO_PLAYWRIGHT)


def skipped_by_reason(reports: list[pytest.TestReport]) -> list[tuple[int, str]]:
    """The skipped tests counted by reason, the largest family first."""
    counts: dict[str, int] = {}
    for report in reports:
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ").strip() or "sans motif"
        counts[reason] = counts.get(reason, 0) + 1
    return sorted(((n, reason) for reason, n in counts.items()), key=lambda item: (-item[0], item[1]))


@pytest.hookimpl(wrapper=True, tryfirst=True)  # the outermost wrapper: printed after pytest's own summary
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter):  # noqa: ANN201 — a hook wrapper
    """At the end of the run, how many tests were skipped and why, one line per reason, in French
    (installed by tests/conftest.py)."""
    result = yield
    stats = terminalreporter.stats
    if not any(stats.get(key) for key in ("passed", "failed", "skipped", "error")):
        return result
    families = skipped_by_reason([r for r in stats.get("skipped", []) if isinstance(r, pytest.TestReport)])
    total = sum(n for n, _ in families)
    terminalreporter.section(f"{total} test{'s' if total > 1 else ''} ignoré{'s' if total > 1 else ''}"
                             if total else "aucun test ignoré", sep="-", bold=True)
    for n, reason in families:
        terminalreporter.line(f"{n} ignoré{'s' if n > 1 else ''} : {reason}")
    return result
