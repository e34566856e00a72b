"""The screens' read functions, without HTTP: what each person's page shows, at an instant, and
what they may do there (sign, answer, hand in, ask, score, open a file)."""

from __future__ import annotations

import pytest

from models.charter import sign_charter
from models.db import session_scope
from models.deliverables import request_due_date
from models.errors import InvalidInput, NotFound
from models.jury import ScoreInput, find_application
from models.links import Bearer, LinkForbidden, juror_bearer
from models.read.consultancy import consultancy_screen, deliverable_of
from models.read.juror import juror_attachment, juror_of, juror_screen
from models.read.overview import overview_screen, request_of
from models.read.pilot import banner, charter_view, pilot_of
from models.read.territory import session_calendar, territory_screen
from models.tables import ApplicationFile, CharterParty
from tests.conftest import at, ctx_of, start_arras

ARRAS, LENS = "200033579", "200040947"


def test_the_charter_may_be_signed_once_by_each_party(selected: str) -> None:
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        pilot = pilot_of(ctx, ARRAS)
        before = charter_view(ctx, pilot, CharterParty.TERRITORY, at("2015-06-10T10:00"))
        assert before.may_sign and before.form == f"charte:{pilot.id}:territoire"
        assert [party for party, _, row in before.signatures] == ["territoire", "cerdd", "prestataire"]
        sign_charter(ctx, pilot, party="territoire", signatory="Frédéric Leturque", at=at("2015-06-10T10:00"))
        after = charter_view(ctx, pilot, CharterParty.TERRITORY, at("2015-06-10T10:01"))
        assert not after.may_sign and {p: r for p, _, r in after.signatures}["territoire"] is not None
        assert charter_view(ctx, pilot, CharterParty.ORGANISER, at("2015-06-10T10:01")).may_sign
        assert banner(ctx).programme_title == ctx.programme.title and banner(ctx).replayed_at is None
        with pytest.raises(NotFound):
            pilot_of(ctx, "123456789")


def test_the_territory_answers_sessions_still_to_come(selected: str) -> None:
    start_arras(selected)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        pilot = pilot_of(ctx, ARRAS)
        screen = territory_screen(ctx, pilot, ARRAS, at("2015-07-02T10:00"))
        assert screen.view.siren == ARRAS and not screen.charter.may_sign
        first = screen.sessions[0]
        assert first.may_answer and not first.past and first.answer is None and first.form.startswith("reponse:")
        late = territory_screen(ctx, pilot, ARRAS, first.session.ends_at)
        assert late.sessions[0].past and not late.sessions[0].may_answer
        ics = session_calendar(ctx, pilot, first.session.key, at("2015-07-02T10:00"))
        assert b"METHOD:PUBLISH" in ics and b"BEGIN:VEVENT" in ics


def test_a_deliverable_with_a_request_waiting_takes_no_second_one(selected: str) -> None:
    start_arras(selected)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        now = at("2015-07-02T10:00")
        blocks = consultancy_screen(ctx, None, now)
        assert [b.siren for b in blocks][0] == ARRAS and len(blocks) == 3
        line = next(d for d in blocks[0].deliverables if d.deliverable.key == "diagnostic")
        assert line.may_hand_in and line.may_request_due_date and not line.requested
        assert not any(d.may_hand_in for b in blocks[1:] for d in b.deliverables)  # not started
        request = request_due_date(ctx, deliverable_of(ctx, ARRAS, "diagnostic"), to=at("2015-09-15T18:00"),
                                   reason="Entretiens décalés", at=now)
        line = next(d for d in consultancy_screen(ctx, ARRAS, now)[0].deliverables if d.deliverable.key == "diagnostic")
        assert line.requested and line.may_hand_in and not line.may_request_due_date
        arras, lens = pilot_of(ctx, ARRAS), pilot_of(ctx, LENS)
        own, = overview_screen(ctx, arras, now).requests
        assert own.own and own.may_decide and own.form == f"decision:{request.id}"
        other, = overview_screen(ctx, lens, now).requests
        assert not other.own and not other.may_decide
        assert request_of(ctx, arras, request.id or 0).id == request.id
        with pytest.raises(NotFound):
            request_of(ctx, lens, request.id or 0)


def test_a_juror_scores_until_the_meeting_and_opens_admissible_files(closed: str) -> None:
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        juror = juror_of(ctx, juror_bearer(ctx, "jury-dreal@example.org"))
        screen = juror_screen(ctx, juror, at("2015-06-01T10:00"))
        assert screen.may_score and screen.submitted_at is None and screen.selected == ()
        assert all(line.to_complete and not line.conflicted for line in screen.applications)
        assert not juror_screen(ctx, juror, ctx.definition.jury.meeting).may_score
        with pytest.raises(LinkForbidden):
            juror_of(ctx, Bearer("jure", email="personne@example.org"))
        first = screen.applications[0].files[0]
        assert juror_attachment(ctx, first.id or 0).content == session.get(ApplicationFile, first.id).content
        with pytest.raises(NotFound):
            juror_attachment(ctx, 10**9)


@pytest.mark.parametrize("value", ["²", "11", "\u0663", "+3", "0x3"])
def test_a_typed_score_off_the_scale_is_refused_in_french(closed: str, value: str) -> None:
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        arras = find_application(ctx, ARRAS)
        with pytest.raises(InvalidInput, match="hors barème"):
            ScoreInput.typed(ctx, arras, "portage", value)
        assert ScoreInput.typed(ctx, arras, "portage", "4").score == 4
        assert ScoreInput.typed(ctx, arras, "portage", "na").not_applicable
        assert ScoreInput.typed(ctx, arras, "portage", "").score is None
