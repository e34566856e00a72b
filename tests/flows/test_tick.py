"""The tick through a real Prefect test server: it advances what is due, and only once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import func, select

from models.db import session_scope
from models.tables import AuditEntry, Notice, Programme
from tests.conftest import EXAMPLES, at
from transitions.intake import read_application, submit_form
from transitions.runtime import run_tick

pytestmark = pytest.mark.prefect


def _counts(url: str) -> tuple[int, int, str]:
    with session_scope(url) as session:
        notices = session.exec(select(func.count()).select_from(Notice)).one()
        audit = session.exec(select(func.count()).select_from(AuditEntry)).one()
        stage = session.exec(select(Programme.state)).one()
    return notices, audit, stage


def test_tick_twice_for_the_same_instant_changes_nothing(prefect_server: None, loaded: str) -> None:
    before_launch = run_tick(at("2015-04-02T08:59"))
    assert before_launch.changes["lancement_appel"] == 0
    assert _counts(loaded)[2] == "pret"

    first = run_tick(at("2015-04-02T09:00"))
    assert first.changes["lancement_appel"] == 1
    assert first.delivery.sent == 3  # the Cerdd's three contacts
    after_first = _counts(loaded)
    assert after_first[2] == "appel_ouvert"

    second = run_tick(at("2015-04-02T09:00"))
    assert second.changes["lancement_appel"] == 0
    assert second.delivery.sent == 0
    assert _counts(loaded) == after_first


def test_tick_closes_the_call_and_delivers_eml_files(prefect_server: None, loaded: str, tmp_path) -> None:
    run_tick(at("2015-04-02T09:00"))
    submit_form(loaded, read_application(EXAMPLES / "candidature-commune-bethune.yaml"), at("2015-04-10T10:00"), None)
    result = run_tick(at("2015-05-07T12:00"))
    assert result.changes["cloture_appel"] == 2  # the stage change and one decided application
    files = sorted(p.name for p in (tmp_path / "outbox").glob("*.eml"))
    assert any(name.endswith("candidature_non_recevable.eml") for name in files)
    again = run_tick(at("2015-05-07T12:00"))
    assert again.delivery.sent == 0
    assert sorted(p.name for p in (tmp_path / "outbox").glob("*.eml")) == files


def test_tick_publishes_the_programme_dashboard_to_the_prefect_ui(prefect_server: None, loaded: str) -> None:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async def dashboards() -> list:  # type: ignore[type-arg]
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["programme-cerdd-2015"])))
        return sorted(found, key=lambda artifact: artifact.created)

    before = len(asyncio.run(dashboards()))
    run_tick(at("2015-04-02T09:00"))
    run_tick(at("2015-04-02T09:00"))  # nothing new: no new version of the dashboard
    artifacts = asyncio.run(dashboards())
    assert len(artifacts) == before + 1
    assert "**appel à candidature ouvert**" in str(artifacts[-1].data)

    async def links() -> dict[str, object]:
        async with get_client() as client:
            found = await client.read_latest_artifacts()
        return {artifact.key: artifact for artifact in found if artifact.key}

    latest = asyncio.run(links())
    report = str(latest["rapport-cerdd-2015"].data)  # type: ignore[attr-defined]
    # A link artifact is stored as a Markdown link: [text](file:///…/rapports/rapport-cerdd-2015.html)
    import re
    from urllib.parse import unquote, urlparse

    uri = re.search(r"\((file://[^)]+)\)", report)
    assert uri is not None and uri.group(1).endswith("/rapports/rapport-cerdd-2015.html"), report
    page = Path(unquote(urlparse(uri.group(1)).path)).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "Rapport d'avancement" in page
    assert "bilan-cerdd-2015.md)" in str(latest["bilan-cerdd-2015"].data)  # type: ignore[attr-defined]


def test_each_stage_flow_runs_on_its_own(prefect_server: None, loaded: str) -> None:
    from flows.stages import close_call_flow, launch_call_flow
    from transitions.runtime import replay_settings

    with replay_settings():
        assert launch_call_flow(as_of=at("2015-04-02T09:00")) == {"lancement_appel": 1, "relances_appel": 0}
        assert close_call_flow(as_of=at("2015-05-06T09:00")) == {"cloture_appel": 0}  # not yet
        assert close_call_flow(as_of=at("2015-05-07T12:00")) == {"cloture_appel": 1}
    assert _counts(loaded)[2] == "appel_clos"


def test_the_delivery_flow_sends_what_is_due(prefect_server: None, loaded: str, tmp_path) -> None:
    from flows.delivery import deliver_flow
    from models.call import launch_call
    from models.db import session_scope
    from tests.conftest import ctx_of
    from transitions.runtime import replay_settings

    with session_scope(loaded) as session:
        launch_call(ctx_of(session), at("2015-04-02T09:00"))
    with replay_settings():
        assert deliver_flow(as_of=at("2015-04-02T09:00")).sent == 3
        assert deliver_flow(as_of=at("2015-04-02T09:00")).sent == 0
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 3


def test_flow_runs_are_named_after_their_instant(prefect_server: None, loaded: str) -> None:
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    run_tick(at("2015-05-07T12:00"))

    async def named() -> list:  # type: ignore[type-arg]
        async with get_client() as client:
            return await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=["tick 2015-05-07 12:00"])))

    assert asyncio.run(named())


def test_a_stage_is_retried_when_the_database_drops_out_and_only_then(
        prefect_server: None, loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect import flow
    from sqlalchemy.exc import OperationalError

    from flows import common
    from transitions.runtime import replay_settings

    calls: list[str] = []
    real = common.run_one_stage

    def flaky(stage, as_of, programme=None, only=None):  # type: ignore[no-untyped-def]
        calls.append(stage)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        if stage == "bug":
            raise ValueError("a bug is not retried")
        return real(stage, as_of, programme, only=only)

    monkeypatch.setattr(common, "run_one_stage", flaky)
    fast = common.stage_task.with_options(retry_delay_seconds=0)

    @flow
    def one(stage: str) -> int:
        return fast(stage, at("2015-04-02T09:00"))

    with replay_settings():
        assert one("lancement_appel") == 1
        assert calls == ["lancement_appel", "lancement_appel"]
        with pytest.raises(ValueError):
            one("bug")
    assert calls == ["lancement_appel", "lancement_appel", "bug"]
