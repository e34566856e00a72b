"""The back office's read functions without HTTP: the home's waiting and late items with the page
each links to, the applications' list and file, the outbox's filters and the journal's pages."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models.db import session_scope
from models.errors import InvalidInput
from models.forms import SECTIONS
from models.read.staff_applications import FILE, application_file, application_list
from models.read.staff_home import JURY, PILOTS, late_for_others, staff_home, waiting_for_cerdd
from models.read.staff_notices import JOURNAL_PAGE, journal_screen, notices_screen
from models.staff import add_member
from models.tables import Application, AuditEntry, NoticeStatus
from tests.conftest import at, ctx_of
from tests.staff_keys import SECRET


def test_while_the_jury_scores_each_jurors_missing_scores_are_late_items(closed: str) -> None:
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        late = late_for_others(ctx, at("2015-06-01T10:00"))
        assert {item.page for item in late} == {JURY} and len(late) == len(ctx.definition.jury.members)
        assert all("n'a pas noté 3 candidatures" in item.what and not item.late for item in late)
        assert all(item.late for item in late_for_others(ctx, at("2015-06-04T15:00")))
        assert waiting_for_cerdd(ctx, at("2015-06-01T10:00")) == []


def test_charters_unsigned_past_their_date_wait_for_the_cerdd_and_are_late_for_the_parties(selected: str) -> None:
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        member = add_member(ctx, "claire.dufour@cerdd.example.org", "Claire Dufour", "lecture",
                            at=at("2015-06-10T09:00"), by="test", base_url="http://testserver", secret=SECRET)
        before = staff_home(ctx, member, at("2015-06-20T10:00"))
        assert before.role == "lecture seule" and before.acts == () and before.agenda
        own = [item for item in before.for_cerdd if item.page == PILOTS]  # the Cerdd signs too, in time
        assert len(own) == 3 and all("signature de la charte" in i.what and not i.late for i in own)
        assert before.late_for_others == ()
        late = staff_home(ctx, member, at("2015-06-29T10:00"))
    decisions = [item for item in late.for_cerdd if "charte non signée" in item.what]
    assert len(decisions) == 3 and {item.page for item in decisions} == {PILOTS} and all(i.late for i in decisions)
    signatures = [item for item in late.late_for_others if "signature de la charte" in item.what]
    assert len(signatures) == 6 and all(item.page == PILOTS for item in signatures)  # 2 other parties, 3 pilots


def test_the_applications_list_and_one_file_section_by_section(closed: str) -> None:
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        rows = application_list(ctx).lines
        stored = session.exec(select(Application)).all()
        assert [r.receipt for r in rows] == [a.receipt_number for a in stored]
        assert {r.door for r in rows} == {FILE} and {r.status for r in rows} == {"recevable"}
        screen = application_file(ctx, rows[0].siren)
    assert [s.title for s in screen.sections] == [s.heading for s in SECTIONS]
    assert screen.sections[0].rows[2] == ("SIREN", rows[0].siren)
    assert len(screen.versions) == 1 and screen.versions[0].files and screen.row == rows[0]


def test_the_outbox_filters_and_the_journal_pages(closed: str) -> None:
    with session_scope(closed) as session:
        ctx = ctx_of(session)
        every = notices_screen(ctx)
        assert every.lines and all(line.may_retry == (line.status in ("abandonné", "expiré")) for line in every.lines)
        assert notices_screen(ctx, state=NoticeStatus.SENT).lines == ()
        with pytest.raises(InvalidInput, match="État inconnu"):
            notices_screen(ctx, state="perdu")
        for n in range(JOURNAL_PAGE + 5):
            ctx.audit(at("2015-05-10T10:00"), "test", "essai.page", "programme", None, f"Entrée {n}")
        session.flush()
        total = len(session.exec(select(AuditEntry)).all())
        first = journal_screen(ctx)
        last = journal_screen(ctx, page=99)
        assert first.total == total and len(first.entries) == JOURNAL_PAGE and last.page == first.pages == 2
        assert journal_screen(ctx, action="essai", typed_day="10 mai 2015").total == JOURNAL_PAGE + 5
        assert journal_screen(ctx, action="essai", typed_day="11/05/2015").total == 0
        with pytest.raises(InvalidInput, match="Jour"):
            journal_screen(ctx, typed_day="hier")
