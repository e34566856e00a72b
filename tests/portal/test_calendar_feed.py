"""Each person's calendar feed over HTTP (/l/{token}/calendrier.ics): the sessions of their pilot
under the same UID and SEQUENCE as the mailed invitations and the portal's .ics, following
every change; the Cerdd's and the consultancy's feeds with the due dates; none for the jury."""

from __future__ import annotations

import re
from typing import Any

import httpx
from icalendar import Calendar
from sqlmodel import select

from flows.plain import run_one_stage
from models import pilots, training
from models.db import session_scope
from models.schedule import STAGES
from models.tables import Notice
from tests.conftest import at, ctx_of
from tests.guards import HANG_GUARD
from tests.portal.conftest import ARRAS, Clock, consultancy, juror, link, territory
from tests.portal.helpers import assert_french_refusal
from transitions.calendar_export import build_calendar


def _events(data: bytes) -> dict[str, Any]:
    calendar = Calendar.from_ical(data)
    assert str(calendar["method"]) == "PUBLISH"
    return {str(event["summary"]): event for event in calendar.walk("VEVENT")}


def _invitation_uid(url: str) -> str:
    with session_scope(url) as session:
        notice = session.exec(select(Notice).where(Notice.kind == "invitation_session")).first()
        assert notice is not None and notice.calendar is not None
        return str(Calendar.from_ical(notice.calendar).walk("VEVENT")[0]["uid"])


def test_a_territorys_feed_follows_its_sessions_under_the_invitations_uid(started: str, serve, clock: Clock) -> None:  # noqa: ANN001
    base = serve(started)
    _, page = link(started, territory(), when="2015-07-01T10:00")
    feed_path = page.split("/territoire/")[0] + "/calendrier.ics"
    assert feed_path in httpx.get(base + page, timeout=HANG_GUARD).text
    for stage in STAGES:  # the invitation to formation 1 (3 August) leaves on 10 July
        run_one_stage(stage.name, at("2015-07-10T09:00"))
    first = httpx.get(base + feed_path, timeout=HANG_GUARD)
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/calendar")
    events = _events(first.content)
    uid = _invitation_uid(started)
    formation = next(e for e in events.values() if str(e["uid"]) == uid)
    assert formation.decoded("dtstart") == at("2015-08-03T09:30")
    assert str(formation["uid"]) == uid and int(formation["sequence"]) == 0
    assert not any("Échéance" in summary for summary in events)  # the territory has no deliverables to hand in
    ics = httpx.get(f"{base}{page}/session/formation-1.ics", timeout=HANG_GUARD)
    assert str(Calendar.from_ical(ics.content).walk("VEVENT")[0]["uid"]) == uid
    with session_scope(started) as session:
        ctx = ctx_of(session)
        session_1 = training.find_session(ctx, pilots.find_pilot(ctx, ARRAS), "formation-1")
        training.reschedule(ctx, session_1, to=at("2015-08-05T14:00"), reason="Salle prise",
                            at=at("2015-07-20T10:00"))
        training.cancel(ctx, session_1, reason="Intempéries", at=at("2015-07-21T10:00"))
    clock.now = at("2015-07-21T11:00")
    after = next(e for e in Calendar.from_ical(httpx.get(base + feed_path, timeout=HANG_GUARD).content).walk("VEVENT")
                 if str(e["uid"]) == uid)
    assert (int(after["sequence"]), str(after["status"])) == (2, "CANCELLED")
    assert after.decoded("dtstart") == at("2015-08-05T14:00")
    with session_scope(started) as session:
        exported = Calendar.from_ical(build_calendar(session, None, at("2015-07-21T11:00"), pilot=ARRAS))
    same = [e for e in exported.walk("VEVENT") if str(e["uid"]) == uid]
    assert len(same) == 1 and int(same[0]["sequence"]) == 2


def test_the_consultancys_feed_carries_due_dates_and_the_jurys_link_has_none(started: str, serve) -> None:  # noqa: ANN001
    base = serve(started)
    _, page = link(started, consultancy(), when="2015-07-01T10:00")
    token_path = "/".join(page.split("/")[:3])
    feed = httpx.get(f"{base}{token_path}/calendrier.ics", timeout=HANG_GUARD)
    assert feed.status_code == 200
    summaries = list(_events(feed.content))
    assert any(s.startswith("Échéance prestataire — CU d'Arras") for s in summaries)
    assert any(s.startswith("CU d'Arras : ") for s in summaries)
    _, jury_page = link(started, juror(), when="2015-07-01T10:00")
    refused = httpx.get(base + "/".join(jury_page.split("/")[:3]) + "/calendrier.ics", timeout=HANG_GUARD)
    assert_french_refusal(refused, 403, "pas de calendrier")


def test_the_cerdd_and_the_consultancy_pages_link_to_their_feed(started: str, client_for) -> None:  # noqa: ANN001
    client = client_for(started)
    for bearer in (territory(party="cerdd"), consultancy()):
        _, path = link(started, bearer, when="2015-07-01T10:00")
        page = client.get(path).text
        feed = re.search(r'href="(/l/[^"]+/calendrier\.ics)"', page)
        assert feed is not None, page[:2000]
        answer = client.get(feed.group(1))
        assert answer.status_code == 200 and answer.content.startswith(b"BEGIN:VCALENDAR")


def _uids(data: bytes) -> dict[str, int]:
    return {str(e["uid"]): int(e["sequence"]) for e in Calendar.from_ical(data).walk("VEVENT")}


def test_the_feed_of_every_pilot_is_what_is_coming_bounded_under_the_same_uids(
        started: str, monkeypatch) -> None:  # noqa: ANN001
    from datetime import timedelta

    from models.read import calendar

    stamp = at("2015-10-15T10:00")
    with session_scope(started) as session:
        ctx = ctx_of(session)
        whole = Calendar.from_ical(calendar.accompaniment_calendar(ctx, [(pilots.find_pilot(ctx, ARRAS), None)], stamp,
                                                                   due_dates=True)).walk("VEVENT")
        coming = Calendar.from_ical(calendar.programme_feed(ctx, stamp)).walk("VEVENT")
        monkeypatch.setattr(calendar, "FEED_EVENTS", 3)
        first_three = Calendar.from_ical(calendar.programme_feed(ctx, stamp)).walk("VEVENT")
    since = stamp - calendar.FEED_PAST
    kept = sorted((e for e in whole if e.decoded("dtend") >= since), key=lambda e: e.decoded("dtstart"))
    assert len(whole) > len(kept) > 3  # the year holds events ended before the window, and more than 3 after
    assert [str(e["uid"]) for e in coming] == [str(e["uid"]) for e in kept]
    assert {str(e["uid"]): int(e["sequence"]) for e in coming} == {str(e["uid"]): int(e["sequence"]) for e in kept}
    assert [str(e["uid"]) for e in first_three] == [str(e["uid"]) for e in kept[:3]]
    assert all(e.decoded("dtend") >= since for e in coming) and since < stamp - timedelta(days=1)


def test_the_consultancy_subscribes_to_one_pilots_year_and_a_poll_without_change_costs_a_304(
        started: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    clock.now = at("2015-07-02T10:00")
    client = client_for(started)
    _, page = link(started, consultancy(), when="2015-07-01T10:00")
    found = re.search(r'href="(/l/[^"]+/prestataire/200033579/calendrier\.ics)"', client.get(page).text)
    assert found is not None
    feed = client.get(found.group(1))
    assert feed.status_code == 200 and feed.headers["cache-control"] == "private, no-cache"
    with session_scope(started) as session:
        whole = build_calendar(session, None, at("2015-07-02T10:00"), pilot=ARRAS)
    assert _uids(feed.content) == _uids(whole)  # its whole year, under the UIDs of every other door
    tag = feed.headers["etag"]
    clock.now = at("2015-07-02T15:00")  # another DTSTAMP, the same events
    unchanged = client.get(found.group(1), headers={"if-none-match": tag})
    assert unchanged.status_code == 304 and unchanged.content == b"" and unchanged.headers["etag"] == tag
    with session_scope(started) as session:
        ctx = ctx_of(session)
        training.reschedule(ctx, training.find_session(ctx, pilots.find_pilot(ctx, ARRAS), "formation-1"),
                            to=at("2015-08-05T14:00"), reason="Salle prise", at=at("2015-07-02T16:00"))
    moved = client.get(found.group(1), headers={"if-none-match": tag})
    assert moved.status_code == 200 and moved.headers["etag"] != tag
    assert max(_uids(moved.content).values()) == 1  # the session moved: SEQUENCE 1


def test_only_the_consultancys_link_opens_a_pilots_consultancy_feed(started: str, client_for) -> None:  # noqa: ANN001
    client = client_for(started)
    for bearer in (territory(), territory(party="cerdd")):
        _, page = link(started, bearer, when="2015-07-01T10:00")
        token_path = "/".join(page.split("/")[:3])
        assert client.get(f"{token_path}/calendrier.ics").status_code == 200  # their own feed
        assert_french_refusal(client.get(f"{token_path}/prestataire/{ARRAS}/calendrier.ics"), 403,
                              "pas le calendrier de ce territoire")
