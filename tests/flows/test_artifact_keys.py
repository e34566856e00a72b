"""Artifact keys follow Prefect's rule (lowercase letters, digits, dashes) and keep names readable."""

from __future__ import annotations

import re

from flows.common import artifact_key


def test_accented_names_keep_their_letters() -> None:
    assert artifact_key("avancement", "cerdd-2015", "CA de Lens - Liévin") == (
        "avancement-cerdd-2015-ca-de-lens---lievin")
    assert artifact_key("avancement", "cerdd-2015", "CC de Flandre Intérieure") == (
        "avancement-cerdd-2015-cc-de-flandre-interieure")


def test_any_name_gives_a_key_prefect_accepts() -> None:
    for name in ("Œuvre « commune » ! ", "Ĳssel/..\\x", "日本", "a\u0301\u0301b"):
        key = artifact_key("pilote", name)
        assert re.fullmatch(r"[a-z0-9-]+", key) and not key.endswith("-")
