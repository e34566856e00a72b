"""deploy/ stays true to the code: the environment template names every setting and loads as
Settings, the proxy lets through what the portal accepts, every unit runs a command that exists."""

from __future__ import annotations

import configparser
import re

import pytest

from config.settings import Settings
from tests.conftest import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"


def _template() -> dict[str, str | None]:
    """Each setting of deploy/transitions.env: its value, or None when commented out (not set)."""
    found: dict[str, str | None] = {}
    for line in (DEPLOY / "transitions.env").read_text(encoding="utf-8").splitlines():
        if match := re.fullmatch(r"(#?)([A-Z][A-Z0-9_]*)=(.*)", line):
            found[match.group(2)] = None if match.group(1) else match.group(3)
    return found


def test_the_environment_template_names_every_setting() -> None:
    named = set(_template())
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in named]
    assert not missing, f"à ajouter à deploy/transitions.env : {missing}"


def test_the_environment_template_loads_and_holds_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {k: v for k, v in _template().items() if v is not None}
    for key in ("SECRET", "PASSWORD", "AUTH_STRING", "CONNECTION_URL"):
        assert not [k for k in values if key in k], f"secret dans le modèle : {key}"
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url.startswith("postgresql+psycopg://")
    assert not settings.mailbox_configured  # releve-candidatures is registered only with a mailbox


def test_the_proxy_accepts_every_body_the_portal_accepts() -> None:
    from transitions.portal.middleware import BODY_LIMIT

    size = re.search(r"max_size (\d+)MB", (DEPLOY / "Caddyfile").read_text(encoding="utf-8"))
    assert size and int(size.group(1)) * 1000**2 >= BODY_LIMIT


def test_every_unit_runs_an_installed_command_with_the_environment_files() -> None:
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} >= {"prefect-server.service", "transitions-worker@.service",
                                       "transitions-portal.service", "transitions-migrate.service"}
    for unit in units:
        parsed = configparser.ConfigParser(strict=False, interpolation=None)
        parsed.read(unit, encoding="utf-8")
        command = parsed["Service"]["ExecStart"].split()
        program = next(word for word in command if word.startswith("/opt/transitions/"))
        assert (PROJECT_ROOT / program.removeprefix("/opt/transitions/")).is_file(), unit.name
        assert "/etc/transitions/transitions.env" in unit.read_text(encoding="utf-8"), unit.name


def test_the_workers_flow_runs_give_way_to_the_portals_pages() -> None:
    from transitions.processes import BACKGROUND_NICE

    def nice(name: str) -> int:
        parsed = configparser.ConfigParser(strict=False, interpolation=None)
        parsed.read(DEPLOY / "systemd" / name, encoding="utf-8")
        return int(parsed["Service"].get("Nice", "0"))

    assert nice("transitions-worker@.service") == BACKGROUND_NICE  # as `transitions serve`'s flows process
    assert nice("transitions-portal.service") == 0
