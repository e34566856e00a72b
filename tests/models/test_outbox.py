"""The outbox queues a notice once per deduplication key, a concurrent writer's included."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlmodel import select

from models.context import load_ctx
from models.db import session_scope
from models.notices import NoticeKind, Recipient, RenderedNotice
from models.tables import AuditEntry, Notice
from notifications.render import render_notice
from tests.conftest import LAUNCH, ctx_of


def test_a_key_another_transaction_queues_meanwhile_is_left_out_and_the_transaction_goes_on(loaded: str) -> None:
    first, second = Recipient("premiere@example.org", "Première"), Recipient("seconde@example.org", "Seconde")
    rendered_for: list[str] = []

    def racing(kind: NoticeKind, context: Mapping[str, Any], overrides: Mapping[str, str]) -> RenderedNotice:
        if not rendered_for:  # this transaction has read the keys: another one queues the second's notice
            with session_scope(loaded) as other:
                assert ctx_of(other).notify(NoticeKind.CALL_LAUNCHED, [second], key="course", context={},
                                            at=LAUNCH) == 1
        rendered_for.append(context["destinataire"].email)
        return render_notice(kind, context, overrides)

    with session_scope(loaded) as session:
        ctx = load_ctx(session, renderer=racing)
        created = ctx.notify(NoticeKind.CALL_LAUNCHED, [first, second], key="course", context={}, at=LAUNCH)
        ctx.audit(LAUNCH, "test", "test.course", "programme", ctx.programme_id, "La transaction continue.")

    assert created == 1 and rendered_for == [first.email, second.email]
    with session_scope(loaded) as session:
        notices = session.exec(select(Notice).where(Notice.kind == NoticeKind.CALL_LAUNCHED.value)).all()
        assert sorted(n.recipient_email for n in notices) == [first.email, second.email]
        assert session.exec(select(AuditEntry).where(AuditEntry.action == "test.course")).one()


def test_notices_read_ahead_are_queued_once_and_ask_the_outbox_nothing_more(loaded: str) -> None:
    """`ProgrammeContext.prefetch` reads which of many notices are queued in one query; the `notify` calls that
    follow make no query of their own, queue only what is new, and a second pass queues nothing."""
    from sqlalchemy import event

    people = [Recipient(f"epci{index}@example.org", f"EPCI {index}") for index in range(30)]
    with session_scope(loaded) as session:  # a third of them were reminded already
        ctx = ctx_of(session)
        for person in people[:10]:
            ctx.notify(NoticeKind.CALL_LAUNCHED, [person], key=f"rappel-{person.email}", context={}, at=LAUNCH)
    for expected in (20, 0):
        with session_scope(loaded) as session:
            ctx = ctx_of(session)
            ctx.prefetch(NoticeKind.CALL_LAUNCHED, [(f"rappel-{p.email}", [p]) for p in people])
            selects: list[str] = []

            def count(conn: object, cursor: object, statement: str, *args: object,
                      found: list[str] = selects) -> None:
                if statement.lstrip().upper().startswith("SELECT"):
                    found.append(statement)

            event.listen(session.get_bind(), "before_cursor_execute", count)
            try:
                created = sum(ctx.notify(NoticeKind.CALL_LAUNCHED, [p], key=f"rappel-{p.email}", context={},
                                         at=LAUNCH) for p in people)
            finally:
                event.remove(session.get_bind(), "before_cursor_execute", count)
        assert created == expected
        assert not [s for s in selects if "dedup_key" in s and "IN" in s.upper()]  # no key read again
    with session_scope(loaded) as session:
        rows = session.exec(select(Notice).where(Notice.kind == NoticeKind.CALL_LAUNCHED.value)).all()
        assert sorted(n.recipient_email for n in rows) == sorted(p.email for p in people)
