"""The back office's jury and pilot screens, without HTTP: the ranking's detail, who has not
scored, conflicts, whether the decision may be taken; each pilot's charter and progress, whether
its deadline may be extended or it withdrawn, and the application its withdrawal would offer the
place to (the one `withdraw` then selects)."""

from __future__ import annotations

from flows.plain import run_one_stage
from models.db import session_scope
from models.decision import decide
from models.jury import declare_conflict, find_application
from models.read.pilot import pilot_of
from models.read.staff_jury import jury_screen
from models.read.staff_pilots import pilot_board, pilots_board
from models.schedule import STAGES
from models.withdrawal import withdraw
from tests.conftest import JURY_SHEETS, at, ctx_of, score

ARRAS, LENS_LIEVIN, FLANDRE = "200033579", "246200364", "200040947"


def test_the_jury_screen_before_and_at_the_meeting(closed: str) -> None:
    score(closed, "notes-dreal.yaml", "notes-region.yaml")
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        declare_conflict(ctx, find_application(ctx, FLANDRE), juror="Emmanuel Bertin", reason="Élu de la CC",
                         at=at("2015-06-02T09:00"))
    with session_scope(closed) as session:
        before = jury_screen(ctx_of(session), at("2015-06-02T10:00"))
    assert [(g.juror, len(g.receipts)) for g in before.missing] == [("Emmanuel Bertin", 2)]
    assert [(c.juror, c.reason) for c in before.conflicts] == [("Emmanuel Bertin", "Élu de la CC")]
    assert not before.may_decide and "se réunit" in (before.may_decide.reason or "")
    flandre = next(line for line in before.view.lines if line.application.siren == FLANDRE)
    assert flandre.excluded == ["Emmanuel Bertin"] and flandre.missing == 0
    score(closed, "notes-cerdd.yaml")
    for stage in STAGES:
        run_one_stage(stage.name, at("2015-06-04T14:00"))
    with session_scope(closed) as session:
        meeting = jury_screen(ctx_of(session), at("2015-06-04T14:30"))
    assert meeting.may_decide and meeting.missing == () and not meeting.decided
    assert {c.siren for c in meeting.candidates if c.proposed} == {ARRAS, LENS_LIEVIN, FLANDRE}
    assert meeting.proposal.startswith("Proposition du jury :") and meeting.decision is None
    with session_scope(closed) as session:
        decide(ctx_of(session), chosen=None, rationale="", by="direction@cerdd.example.org", at=at("2015-06-04T14:40"))
    with session_scope(closed) as session:
        after = jury_screen(ctx_of(session), at("2015-06-04T15:00"))
    assert after.decided and not after.may_decide and after.candidates == ()
    assert after.decision is not None and after.decision.actor == "direction@cerdd.example.org"


def test_the_pilot_screens_offer_what_withdraw_then_does(closed: str) -> None:
    score(closed, *JURY_SHEETS)
    for stage in STAGES:
        run_one_stage(stage.name, at("2015-06-04T14:00"))
    with session_scope(closed) as session:
        decide(ctx_of(session), chosen=[ARRAS, LENS_LIEVIN], rationale="Deux", by="d", at=at("2015-06-04T14:30"))
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        lines = pilots_board(ctx, at("2015-06-29T10:00")).lines
        assert [(line.siren, line.unsigned) for line in lines] == [
            (ARRAS, ("le Cerdd", "le prestataire", "le territoire")),
            (LENS_LIEVIN, ("le Cerdd", "le prestataire", "le territoire"))]
        board = pilot_board(ctx, pilot_of(ctx, LENS_LIEVIN), at("2015-06-29T10:00"))
        assert board.may_extend and board.may_withdraw and board.active
        assert board.successor is not None and board.successor.siren == FLANDRE and board.successor.rank == 3
        assert board.progress is not None and board.progress.phases == [] and len(board.charter.sha256) == 64
        successor = withdraw(ctx, pilot_of(ctx, LENS_LIEVIN), reason="Charte non signée", at=at("2015-06-29T10:05"))
        assert successor is not None and successor.name == board.successor.name
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        gone = pilot_board(ctx, pilot_of(ctx, LENS_LIEVIN), at("2015-06-29T11:00"))
        assert not gone.may_withdraw and not gone.may_extend and gone.successor is None and not gone.active
        assert gone.charter.withdrawal is not None and gone.charter.withdrawal.successor == successor.name
        full = pilot_board(ctx, pilot_of(ctx, ARRAS), at("2015-06-29T11:00"))
        assert full.successor is None  # three pilots again: no place to offer
