"""A tie for the last place the call allows is never settled silently: the proposal leaves the tied
territories out and names them, the Cerdd's notice says it, and confirming is refused until the
jury's secretary chooses (with a rationale)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import col, select

from flows.plain import run_one_stage
from models import jury
from models.context import install_programme
from models.db import session_scope
from models.decision import DecisionForm, decide_from_form, proposal
from models.errors import InvalidInput
from models.notices import NoticeKind
from models.schedule import STAGES
from models.tables import Application, ApplicationStatus, Notice
from tests.conftest import PROGRAMME, at, close_call_with_territories, ctx_of
from transitions.programmes import load_programme

MEETING = at("2015-06-04T14:00")


def _ranked(name: str, score: float | None, missing: int = 0) -> jury.Ranked:
    return jury.Ranked(Application(lead_name=name, lead_siren=name), score, missing)  # type: ignore[call-arg]


def test_a_tie_for_the_last_place_names_every_tied_application() -> None:
    ranked = [_ranked("A", 16.0), _ranked("B", 14.333), _ranked("C", 14.331), _ranked("D", 9.0)]
    tie = jury.tie_for_last_place(ranked, 10.0, 2)
    assert tie is not None and [r.application.lead_name for r in tie.tied] == ["B", "C"] and tie.places == 1
    assert "entre B (B), C (C) pour la dernière place" in tie.describe(20, 10.0)
    assert jury.tie_for_last_place(ranked, 10.0, 3) is None  # room for both
    assert jury.tie_for_last_place([_ranked("A", 16.0), _ranked("B", 14.0), _ranked("C", 12.0)], 10.0, 2) is None
    at_threshold = jury.tie_for_last_place([_ranked("A", 16.0), _ranked("B", 10.0), _ranked("C", 10.0)], 10.0, 2)
    assert at_threshold is not None and "(le seuil)" in at_threshold.describe(20, 10.0)


@pytest.fixture
def tied(db_url: str) -> str:
    """The call allows two pilots, and every juror gives every admissible application the same
    scores: three territories tie for two places."""
    bundle = load_programme(PROGRAMME)
    definition = bundle.definition
    two = definition.jury.model_copy(update={"pilots": definition.jury.pilots.model_copy(update={"max": 2})})
    bundle = replace(bundle, definition=definition.model_copy(update={"jury": two}))
    with session_scope(db_url) as session:
        install_programme(session, bundle, at("2015-04-01T09:00"), "test")
    close_call_with_territories(db_url)
    with session_scope(db_url) as session:
        ctx = ctx_of(session)
        applications = session.exec(select(Application).where(Application.status == ApplicationStatus.ADMISSIBLE)
                                    .order_by(col(Application.id))).all()
        assert len(applications) == 3 and ctx.definition.jury.pilots.max == 2
        for application in applications:
            for member in ctx.definition.jury.members:
                for criterion in ctx.definition.jury.criteria:
                    jury.record_score(ctx, application, juror=member.juror, criterion=criterion.key,
                                      score=ctx.definition.jury.scale_max, at=at("2015-06-01T10:00"))
    for stage in STAGES:
        run_one_stage(stage.name, MEETING)
    return db_url


def test_the_proposal_and_its_notice_state_the_tie(tied: str) -> None:
    with session_scope(tied) as session:
        ctx = ctx_of(session)
        current = proposal(ctx)
        assert current.tie is not None and len(current.tie.tied) == 3 and current.proposed == []
        described = current.describe(ctx.definition.jury.scale_max)
        assert "Égalité : égalité à" in described and "les 2 dernières places" in described
        assert described.count("— à égalité") == 3
        notice = session.exec(select(Notice).where(Notice.kind == NoticeKind.DECISION_REQUESTED.value)).first()
        assert notice is not None and "Égalité : égalité à" in notice.body_text
        assert all(r.application.lead_name in notice.body_text for r in current.tie.tied)


def test_confirming_a_tied_proposal_is_refused_and_a_choice_needs_a_rationale(tied: str) -> None:
    with session_scope(tied) as session:
        ctx = ctx_of(session)
        with pytest.raises(InvalidInput, match="Pas de proposition à confirmer : égalité"):
            decide_from_form(ctx, DecisionForm(secretaire="Emmanuel Bertin"), MEETING)
        first, second = [r.application.lead_siren for r in proposal(ctx).tie.tied][:2]  # type: ignore[union-attr]
        with pytest.raises(InvalidInput, match="un motif est obligatoire"):
            decide_from_form(ctx, DecisionForm(secretaire="Emmanuel Bertin", confirmer=False,
                                               territoires=f"{first},{second}"), MEETING)
        assert decide_from_form(ctx, DecisionForm(secretaire="Emmanuel Bertin", confirmer=False,
                                                  territoires=f"{first},{second}",
                                                  motif="Départage : ancrage territorial"), MEETING) > 0
