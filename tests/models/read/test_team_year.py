"""The back office's year screens read without HTTP: sessions and an attendance sheet pre-filled
from the territory's answer, deliverables with their files and requests, people with their own
link's state (`models.read.team_sessions`, `team_deliverables`, `team_people`)."""

from __future__ import annotations

import pytest

from models import deliverables, links, training
from models.db import session_scope
from models.errors import NotFound
from models.pilots import find_pilot
from models.read.team_deliverables import deliverable_file, deliverable_sheet, deliverables_screen
from models.read.team_people import people_screen
from models.read.team_sessions import session_sheet, sessions_screen
from models.recipients import territory_contacts
from tests.conftest import at, ctx_of, start_arras
from tests.portal.helpers import PDF

ARRAS = "200033579"


def test_an_attendance_sheet_is_prefilled_from_the_answer(selected: str) -> None:
    start_arras(selected)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        pilot = find_pilot(ctx, ARRAS)
        first = training.find_session(ctx, pilot, "formation-1")
        blocks = sessions_screen(ctx, at("2015-07-02T10:00")).lines
        assert [b.siren for b in blocks] == [ARRAS] and blocks[0].sessions[0].state == "prévue"
        before = session_sheet(ctx, first.id or 0, at("2015-07-02T10:00"))
        assert before.change_refusal is None and "pas encore eu lieu" in (before.sheet_refusal or "")
        assert not any(line.ticked for line in before.lines if line.organisation == pilot.name)  # no answer yet
        training.answer_invitation(ctx, pilot, first, attending=True, people="Jean Martin", at=at("2015-07-10T10:00"))
        training.record_attendance(ctx, first, person="Jean Martin", organisation=pilot.name, present=False,
                                   at=first.starts_at, by="test")
        after = session_sheet(ctx, first.id or 0, first.starts_at)
        lines = {line.person: line for line in after.lines}
        contact = territory_contacts(ctx, pilot)[0].name
        assert lines[contact].announced == "présence annoncée" and lines[contact].ticked
        assert lines[contact].present is None
        assert lines["Jean Martin"].present is False and not lines["Jean Martin"].ticked  # the record wins
        assert "Cheffe de projet du prestataire" in lines and after.sheet_refusal is None
        assert after.change_refusal is not None and "a commencé" in after.change_refusal
        with pytest.raises(NotFound):
            session_sheet(ctx, 999_999, first.starts_at)


def test_deliverables_files_and_requests(selected: str) -> None:
    start_arras(selected)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        found = {d.key: d for d in deliverables.deliverables_of(ctx, find_pilot(ctx, ARRAS))}
        deliverables.hand_in_file(ctx, found["methode"], filename="methode.pdf", data=PDF, at=at("2015-07-20T10:00"),
                                  by="prestataire")
        deliverables.request_due_date(ctx, found["diagnostic"], to=at("2015-09-15T18:00"), reason="Été",
                                      at=at("2015-07-20T11:00"))
        now = at("2015-07-21T10:00")
        rows = {row.key: row for row in deliverables_screen(ctx, now).lines[0].deliverables}
        assert rows["methode"].files == 1 and rows["diagnostic"].waiting_requests == 1
        sheet = deliverable_sheet(ctx, found["methode"].id or 0, now)
        assert sheet.review_refusal is None and sheet.files[0].filename == "methode.pdf"
        assert deliverable_file(ctx, sheet.id, sheet.files[0].id).content == PDF
        with pytest.raises(NotFound):
            deliverable_file(ctx, found["diagnostic"].id or 0, sheet.files[0].id)
        waiting = deliverable_sheet(ctx, found["diagnostic"].id or 0, now)
        assert "n'a pas été remis" in (waiting.review_refusal or "")
        assert waiting.requests[0].decide_refusal is None and waiting.requests[0].reason == "Été"


def test_each_person_has_their_own_link_state(selected: str) -> None:
    start_arras(selected)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        first, second = [p.email.lower() for p in territory_contacts(ctx, find_pilot(ctx, ARRAS))][:2]
        links.issue_link(ctx, links.pilot_bearer(ctx, ARRAS, "territoire", first), secret="s" * 32,
                         at=at("2015-07-01T10:00"), days=30)
        links.revoke_link(ctx, links.pilot_bearer(ctx, ARRAS, "territoire", second), at=at("2015-07-01T10:00"),
                          by="test")  # never made: nothing to revoke, nothing recorded
        links.issue_link(ctx, links.pilot_bearer(ctx, ARRAS, "territoire", second), secret="s" * 32,
                         at=at("2015-07-01T10:00"), days=30)
        links.revoke_link(ctx, links.pilot_bearer(ctx, ARRAS, "territoire", second), at=at("2015-07-02T10:00"),
                          by="test")
        people = {p.email: p for block in people_screen(ctx).lines for p in block.people}
        assert people[first].link.version == 1 and not people[first].link.revoked
        assert people[second].link.version == 2 and people[second].link.revoked
        assert people["cheffe-de-projet@prestataire.example.org"].link.version is None
        assert people[first].party == "territoire" and people[first].party_label == "le territoire"
