"""« Non applicable » on a submitted sheet: the criterion carries no score and no weight for that
juror, and does not hold the selection back (the portal's jury page offers it for every criterion)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models import jury
from models.db import session_scope
from models.notices import NoticeKind
from models.participation import ScoreInput, save_scores, submit_sheet
from models.tables import JuryScore, Notice
from tests.conftest import at, ctx_of, score

CERDD = "Emmanuel Bertin"
SCORED = at("2015-06-01T10:00")
MEETING = at("2015-06-04T14:00")


def _cerdd_sheet(url: str, *, not_applicable: tuple[str, str]) -> None:
    """The Cerdd juror's example scores, but « non applicable » on (SIREN, criterion)."""
    from tests.conftest import EXAMPLES
    from transitions.userfiles import load_model

    sheet, _ = load_model(EXAMPLES / "jury" / "notes-cerdd.yaml", jury.ScoreSheet, "de notes")
    with session_scope(url) as session:
        ctx = ctx_of(session)
        inputs = [ScoreInput(jury.find_application(ctx, siren), criterion,
                             None if (siren, criterion) == not_applicable else value)
                  for siren, notes in sheet.notes.items() for criterion, value in notes.items()]
        save_scores(ctx, CERDD, inputs, at=SCORED)


def test_a_blank_is_missing_until_the_sheet_is_submitted_then_not_applicable(closed: str) -> None:
    score(closed, "notes-dreal.yaml", "notes-region.yaml")
    _cerdd_sheet(closed, not_applicable=("200033579", "pistes"))
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        arras = next(r for r in jury.ranking(ctx) if r.application.lead_siren == "200033579")
        assert arras.missing == 1 and not arras.complete  # a draft: the blank may still be filled
        assert jury.missing_scores(ctx)[CERDD] == [arras.application.receipt_number]
        submit_sheet(ctx, CERDD, at=SCORED)
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        ranked = {r.application.lead_siren: r for r in jury.ranking(ctx)}
        assert all(r.complete for r in ranked.values())
        assert jury.missing_scores(ctx)[CERDD] == []
        weights = {c.key: c.weight for c in ctx.definition.jury.criteria}
        arras = ranked["200033579"].application.id
        rows = session.exec(select(JuryScore).where(JuryScore.application_id == arras)).all()
        assert len(rows) == 3 * len(weights) - 1 and not any(r.juror == CERDD and r.criterion == "pistes" for r in rows)
        expected = round(sum(r.score * weights[r.criterion] for r in rows) / sum(weights[r.criterion] for r in rows), 2)
        assert ranked["200033579"].score == expected


@pytest.mark.parametrize("submitted", [False, True])
def test_the_selection_waits_for_a_draft_blank_not_for_a_submitted_one(closed: str, submitted: bool) -> None:
    score(closed, "notes-dreal.yaml", "notes-region.yaml")
    _cerdd_sheet(closed, not_applicable=("246200364", "besoins"))
    if submitted:
        with session_scope(closed) as session:
            submit_sheet(ctx_of(session), CERDD, at=SCORED)
    with session_scope(closed) as session:
        jury.select_pilots(ctx_of(session), MEETING)
    with session_scope(closed) as session:
        kinds = {n.kind for n in session.exec(select(Notice).where(Notice.created_at >= MEETING)).all()}
    if submitted:
        assert NoticeKind.DECISION_REQUESTED in kinds and NoticeKind.SELECTION_BLOCKED not in kinds
    else:
        assert kinds == {NoticeKind.SELECTION_BLOCKED}
