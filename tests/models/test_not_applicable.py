"""« Non applicable » is a juror's explicit answer: the criterion carries no score and no weight
and is not missing. A criterion left untouched (« à noter ») is missing: the sheet cannot be
submitted and the selection waits for it."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models import jury
from models.db import session_scope
from models.errors import Refused
from models.jury import ScoreInput, save_scores, submit_sheet, submitted_at
from models.notices import NoticeKind
from models.tables import JuryNotApplicable, JuryScore, Notice
from tests.conftest import at, ctx_of, score

CERDD = "Emmanuel Bertin"
SCORED = at("2015-06-01T10:00")
MEETING = at("2015-06-04T14:00")


def _cerdd_sheet(url: str, *, left: tuple[str, str], marked: bool) -> None:
    """The Cerdd juror's example scores, but (SIREN, criterion) left « à noter » or marked « non applicable »."""
    from tests.conftest import EXAMPLES
    from transitions.userfiles import load_model

    sheet, _ = load_model(EXAMPLES / "jury" / "notes-cerdd.yaml", jury.ScoreSheet, "de notes")
    with session_scope(url) as session:
        ctx = ctx_of(session)
        inputs = [ScoreInput(jury.find_application(ctx, siren), criterion,
                             None if (siren, criterion) == left else value,
                             not_applicable=marked and (siren, criterion) == left)
                  for siren, notes in sheet.notes.items() for criterion, value in notes.items()]
        save_scores(ctx, CERDD, inputs, at=SCORED)


def test_an_untouched_criterion_is_missing_and_blocks_the_submission(closed: str) -> None:
    score(closed, "notes-dreal.yaml", "notes-region.yaml")
    _cerdd_sheet(closed, left=("200033579", "pistes"), marked=False)
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        arras = next(r for r in jury.ranking(ctx) if r.application.lead_siren == "200033579")
        assert arras.missing == 1 and not arras.complete
        assert jury.missing_scores(ctx)[CERDD] == [arras.application.receipt_number]
        with pytest.raises(Refused, match="pas complète"):
            submit_sheet(ctx, CERDD, at=SCORED)
    with session_scope(closed) as session:
        assert submitted_at(ctx_of(session), CERDD) is None


def test_a_blank_sheet_cannot_be_submitted(closed: str) -> None:
    with session_scope(closed) as session, pytest.raises(Refused, match="3 candidature"):
        submit_sheet(ctx_of(session), CERDD, at=SCORED)


def test_non_applicable_has_no_weight_and_is_not_missing(closed: str) -> None:
    score(closed, "notes-dreal.yaml", "notes-region.yaml")
    _cerdd_sheet(closed, left=("200033579", "pistes"), marked=True)
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        assert jury.missing_scores(ctx)[CERDD] == []
        assert submit_sheet(ctx, CERDD, at=SCORED)
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        ranked = {r.application.lead_siren: r for r in jury.ranking(ctx)}
        assert all(r.complete for r in ranked.values())
        weights = {c.key: c.weight for c in ctx.definition.jury.criteria}
        arras = ranked["200033579"].application.id
        rows = session.exec(select(JuryScore).where(JuryScore.application_id == arras)).all()
        assert len(rows) == 3 * len(weights) - 1 and not any(r.juror == CERDD and r.criterion == "pistes" for r in rows)
        expected = round(sum(r.score * weights[r.criterion] for r in rows) / sum(weights[r.criterion] for r in rows), 2)
        assert ranked["200033579"].score == expected
        assert session.exec(select(JuryNotApplicable)).one().criterion == "pistes"


def test_a_score_replaces_non_applicable_and_back_to_be_scored(closed: str) -> None:
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        application = jury.find_application(ctx, "200033579")
        save_scores(ctx, CERDD, [ScoreInput(application, "pistes", None, not_applicable=True)], at=SCORED)
        save_scores(ctx, CERDD, [ScoreInput(application, "pistes", 4)], at=SCORED)
        assert session.exec(select(JuryNotApplicable)).all() == []
        assert [r.score for r in session.exec(select(JuryScore)).all()] == [4]
        assert save_scores(ctx, CERDD, [ScoreInput(application, "pistes", None)], at=SCORED) == 1  # « à noter »
        assert session.exec(select(JuryScore)).all() == [] and session.exec(select(JuryNotApplicable)).all() == []


@pytest.mark.parametrize("marked", [False, True])
def test_the_selection_waits_for_an_untouched_criterion_not_for_non_applicable(closed: str, marked: bool) -> None:
    score(closed, "notes-dreal.yaml", "notes-region.yaml")
    _cerdd_sheet(closed, left=("246200364", "besoins"), marked=marked)
    with session_scope(closed) as session:
        jury.select_pilots(ctx_of(session), MEETING)
    with session_scope(closed) as session:
        kinds = {n.kind for n in session.exec(select(Notice).where(Notice.created_at >= MEETING)).all()}
    if marked:
        assert NoticeKind.DECISION_REQUESTED in kinds and NoticeKind.SELECTION_BLOCKED not in kinds
    else:
        assert kinds == {NoticeKind.SELECTION_BLOCKED}


def test_the_command_line_keeps_the_portals_rules_after_the_meeting_and_on_a_submitted_sheet(closed: str) -> None:
    """`jury score` (record_sheet) is refused once the jury has met or the juror's sheet is
    submitted, as on the portal; nothing is recorded."""
    from tests.conftest import EXAMPLES
    from transitions.userfiles import load_model

    sheet, _ = load_model(EXAMPLES / "jury" / "notes-dreal.yaml", jury.ScoreSheet, "de notes")
    with session_scope(closed) as session, pytest.raises(Refused, match="réuni"):
        jury.record_sheet(ctx_of(session), sheet, at("2015-06-04T15:00"))
    _cerdd_sheet(closed, left=("200033579", "pistes"), marked=True)
    with session_scope(closed) as session:
        submit_sheet(ctx_of(session), CERDD, at=SCORED)
    cerdd, _ = load_model(EXAMPLES / "jury" / "notes-cerdd.yaml", jury.ScoreSheet, "de notes")
    with session_scope(closed) as session, pytest.raises(Refused, match="soumise"):
        jury.record_sheet(ctx_of(session), cerdd, SCORED)
    with session_scope(closed) as session:
        assert {r.juror for r in session.exec(select(JuryScore)).all()} == {CERDD}


def test_the_report_tells_non_applicable_from_not_yet_scored(closed: str) -> None:
    from models.read.report_data import report_data

    _cerdd_sheet(closed, left=("200033579", "pistes"), marked=True)
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        save_scores(ctx, CERDD, [ScoreInput(jury.find_application(ctx, "246200364"), "besoins", None)], at=SCORED)
        view = report_data(ctx, SCORED).jury
    lines = {line.application.siren: line for line in view.lines}
    assert lines["200033579"].cell(CERDD, "pistes") == "n. a." and lines["246200364"].cell(CERDD, "besoins") == "—"
    assert lines["200033579"].cell(CERDD, "portage") == "5"
    assert lines["200033579"].missing == 2 * len(view.criteria)  # the other two jurors, nothing from the n. a.
