"""prefect.yaml (the work pool's deployments) and flows/deployments.py (what `transitions serve`
runs in one process) declare the same deployments: names, entrypoints, schedules, concurrency,
triggers, tags and French descriptions. Read without a server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import yaml

from tests.conftest import PROJECT_ROOT


def _trigger(raw: dict[str, Any]) -> dict[str, Any]:
    """A trigger's fields that decide when it fires and what it passes, as plain values."""
    within = raw.get("within", 0)
    return {
        "name": raw.get("name"), "match": raw.get("match", {}), "expect": sorted(raw.get("expect", [])),
        "after": sorted(raw.get("after", [])), "for_each": sorted(raw.get("for_each", [])),
        "posture": str(raw.get("posture", "Reactive")).removeprefix("Posture."),
        "threshold": raw.get("threshold", 1),
        "within": within.total_seconds() if isinstance(within, timedelta) else float(within),
        "parameters": raw.get("parameters", {}),
    }


def _from_yaml() -> dict[str, dict[str, Any]]:
    declared = yaml.safe_load((PROJECT_ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    found = {}
    for each in declared["deployments"]:
        limit = each.get("concurrency_limit")
        found[each["name"]] = {
            "entrypoint": each["entrypoint"], "tags": each.get("tags", []), "description": each.get("description"),
            "schedules": [(s["cron"], s["timezone"]) for s in each.get("schedules", [])],
            "concurrency": (limit["limit"], limit["collision_strategy"]) if limit else None,
            "triggers": [_trigger(t) for t in each.get("triggers", [])],
            "work_pool": each["work_pool"]["name"],
        }
    return found


def _from_serve() -> dict[str, dict[str, Any]]:
    from flows.deployments import deployments

    found = {}
    for each in deployments(mailbox=True):
        options = each.concurrency_options
        found[each.name] = {
            "entrypoint": each.entrypoint, "tags": each.tags, "description": each.description,
            "schedules": [(s.schedule.cron, s.schedule.timezone) for s in each.schedules],
            "concurrency": (each.concurrency_limit, options.collision_strategy.value) if options else None,
            "triggers": [_trigger(t.model_dump(exclude_unset=True)) for t in each.triggers],
            "work_pool": "transitions",
        }
    return found


def test_prefect_yaml_declares_what_serve_runs() -> None:
    declared, served = _from_yaml(), _from_serve()
    assert sorted(declared) == sorted(served)
    for name, expected in served.items():
        assert declared[name] == expected, name


def test_every_scheduled_deployment_runs_one_at_a_time_except_the_daily_anchor() -> None:
    declared = _from_yaml()
    assert declared["tick"]["concurrency"] == (1, "ENQUEUE")  # each queued tick keeps its own instant
    assert declared["envoi-avis"]["concurrency"] == (1, "CANCEL_NEW")
    assert declared["releve-candidatures"]["concurrency"] == (1, "CANCEL_NEW")
    assert all(zone == "Europe/Paris" for d in declared.values() for _, zone in d["schedules"])
