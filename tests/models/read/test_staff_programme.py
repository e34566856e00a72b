"""The back office's programme reads without HTTP, on SQLite and PostgreSQL: a real preview and
apply on the CU d'Arras under way (its `formation-2` a week later, `formation-1`, already held,
refused), the preview kept and read back as its JSON says, the previews paged newest first, the
command that applies it and when it no longer applies, a version's YAML diff."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from flows.programme_preview import preview_change
from models.db import session_scope
from models.errors import NotFound, Refused
from models.programme import ProgrammeDefinition
from models.programme_apply import apply_change
from models.programme_versions import check_preview, record_preview
from models.read.programme_diff import preview_json
from models.read.staff_programme import preview_screen, programme_screen, version_screen
from models.tables import Programme, ProgrammePreview
from notifications.render import render_notice
from tests.conftest import at, ctx_of, select_three_pilots, start_arras

T = "2015-09-01T10:00"
HOSTILE = "<script>alert('titre')</script> Économie de services"
FILE = "v2 <b>salle</b>.yaml"


def changed_definition(url: str) -> ProgrammeDefinition:
    """The stored 2015 definition with `formation-2` a week later under a hostile title, and
    `formation-1` (held on 3 August) a week later too: refused."""
    with session_scope(url) as session:
        data: dict[str, Any] = session.exec(select(Programme.definition)).one()
    for item in data["accompaniment"]["sessions"]:
        if item["key"] == "formation-2":
            item.update(at="P3M1W", title=HOSTILE)
        if item["key"] == "formation-1":
            item.update(at="P1M1W")
    return ProgrammeDefinition.model_validate(data)


def previewed(url: str, definition: ProgrammeDefinition, *, actor: str = "cli:anne") -> Any:
    return preview_change(url, definition, source=FILE, templates={}, at=at(T), made_at=at("2015-09-01T10:05"),
                          actor=actor, renderer=render_notice)


def applied(url: str, definition: ProgrammeDefinition) -> None:
    with session_scope(url) as session:
        apply_change(ctx_of(session), definition, source=FILE, templates={}, reason="Salle <b>prise</b>", at=at(T),
                     actor="cli:anne")


@pytest.fixture
def started(loaded: str) -> str:
    select_three_pilots(loaded)
    start_arras(loaded)
    return loaded


def test_a_preview_is_kept_as_json_prints_it_and_read_back_whole(started: str) -> None:
    definition = changed_definition(started)
    preview = previewed(started, definition)
    assert preview.id is not None and [r.key for r in preview.plan.refused] == ["formation-1"]
    with session_scope(started) as session:
        row = session.get(ProgrammePreview, preview.id)
        assert row is not None
        assert (row.actor, row.source, row.version, row.at, row.made_at) == (
            "cli:anne", FILE, 1, at(T), at("2015-09-01T10:05"))
        assert row.result == preview_json(preview) and row.differences == len(preview.differences) > 0
        screen = preview_screen(ctx_of(session), preview.id)
    back = screen.preview
    assert (back.slug, back.sha256, back.version, back.at) == (preview.slug, preview.sha256, 1, at(T))
    assert back.differences == preview.differences and back.future == preview.future
    assert [(r.pilot, r.key, r.why) for r in back.plan.refused] == [
        (r.pilot, r.key, r.why) for r in preview.plan.refused]
    assert screen.applicable == "oui"
    assert screen.command == "transitions programme apply 'v2 <b>salle</b>.yaml' --reason \"…\" --at 2015-09-01T10:00"

    applied(started, definition)
    with session_scope(started) as session:
        assert preview_screen(ctx_of(session), preview.id).applicable == "version"  # the programme moved on
        screen_v2 = version_screen(ctx_of(session), 2)
        first = version_screen(ctx_of(session), 1)
        with pytest.raises(NotFound, match="version n° 3"):
            version_screen(ctx_of(session), 3)
        with pytest.raises(NotFound, match="aperçu n° 999"):
            preview_screen(ctx_of(session), 999)
    changes = [(kind, line) for kind, line in screen_v2.lines if kind in ("ajout", "retrait")]
    assert ("retrait", "-    at: P3M") in changes and ("ajout", "+    at: P3M1W") in changes
    assert ("ajout", f"+    title: {HOSTILE}") in changes and ("retrait", "-    at: P1M") in changes
    assert screen_v2.previous == 1 and screen_v2.version.reason == "Salle <b>prise</b>"
    assert first.previous is None and all(kind in ("entete", "bloc", "ajout") for kind, _ in first.lines)


def test_previews_are_paged_newest_first_and_a_refused_one_replaces_no_earlier(started: str) -> None:
    with session_scope(started) as session:
        ctx = ctx_of(session)
        for n in range(27):
            record_preview(session, ctx.programme, sha256=f"{n:064x}", at=at(T), made_at=at(T), actor=f"cli:{n}",
                           source="v.yaml", result={"differences": [], "problemes": ["r"] if n == 26 else []})
    with session_scope(started) as session:
        first, second = programme_screen(ctx_of(session), 1), programme_screen(ctx_of(session), 2)
        beyond = programme_screen(ctx_of(session), 9)
        assert [v.number for v in first.versions] == [1] and first.current == 1
        assert [p.actor for p in first.previews] == [f"cli:{n}" for n in range(26, 1, -1)]
        assert [p.actor for p in second.previews] == ["cli:1", "cli:0"] and second.pager.pages == 2
        assert beyond.pager.number == 2
        # the newest (26) broke a rule: the one before it (25) is still the one `apply` takes
        programme = ctx_of(session).programme
        check_preview(session, programme, f"{25:064x}")
        for refused in (26, 24):
            with pytest.raises(Refused, match="programme diff"):
                check_preview(session, programme, f"{refused:064x}")
