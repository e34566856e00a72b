"""The end of a run says how many tests were skipped and why, one line per reason, in French."""

from __future__ import annotations

import pytest

SAMPLE = '''
import pytest

from tests.needs import NO_CHROMIUM, postgres_url


@pytest.mark.parametrize("n", range(3))
def test_on_postgres(n):
    postgres_url()


@pytest.mark.skipif(True, reason=NO_CHROMIUM)
def test_in_a_browser():
    pass


def test_plain():
    pass
'''


@pytest.fixture
def sample(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    pytester.makeconftest("from tests.needs import pytest_terminal_summary  # noqa: F401\n")
    return pytester


def test_skipped_tests_are_counted_by_reason_at_the_end(sample: pytest.Pytester) -> None:
    sample.makepyfile(test_sample=SAMPLE)
    result = sample.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=4)
    result.stdout.fnmatch_lines(["*- 4 tests ignorés -*",
                                 "3 ignorés : PostgreSQL absent, voir TEST_DATABASE_URL",
                                 "1 ignoré : Chromium absent, voir le paquet Debian « chromium »",
                                 "*= 1 passed, 4 skipped in *"])


def test_a_run_without_skips_says_so(sample: pytest.Pytester) -> None:
    sample.makepyfile(test_sample="def test_plain():\n    pass\n")
    result = sample.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*- aucun test ignoré -*", "*= 1 passed in *"])
    result.stdout.no_fnmatch_line("*ignorés :*")
