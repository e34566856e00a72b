"""A context (one transaction, such as a tick's stage) signs a bearer's link once and works out a
pilot's bearers once: the notices carry the same links as when each was worked out on its own."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from models import links
from models.db import session_scope
from models.links import Bearer, LinkSettings, bearer_for, issue_link, notice_link, read_link
from models.notices import NoticeKind, Recipient
from models.pilots import pilots
from models.recipients import all_parties
from models.tables import Application, CharterParty
from tests.conftest import at, ctx_of
from tests.portal.conftest import SECRET

BASE = "https://portail.cerdd.example.org"
WHEN = at("2016-01-20T09:00")


SETTINGS = LinkSettings(SECRET, BASE, 120, issued=WHEN)


def _expected(ctx, pilot) -> dict[str, Bearer]:  # noqa: ANN001
    """Each address's bearer, worked out from the validated forms, as it was before the memo."""
    lead_siren = ctx.session.get(Application, pilot.application_id).lead_siren
    found: dict[str, Bearer] = {}
    for party, people in all_parties(ctx, pilot).items():
        bearer = links.consultancy_bearer() if party == CharterParty.CONSULTANCY else Bearer(party, siren=lead_siren)
        for person in people:
            found.setdefault(person.email.lower(), bearer)
    return found


@pytest.mark.parametrize("bulk_after", [1, 1000])
def test_bearers_read_at_once_are_those_of_each_pilot(selected: str, monkeypatch: pytest.MonkeyPatch,
                                                      bulk_after: int) -> None:
    monkeypatch.setattr(links, "BULK_AFTER", bulk_after)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        chosen = pilots(ctx)
        assert len(chosen) == 3
        expected = {pilot.id: _expected(ctx, pilot) for pilot in chosen}
        assert len({b for found in expected.values() for b in found.values()}) >= 7  # 3 x 2 parties + « * »
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        for pilot in pilots(ctx):
            for email, bearer in expected[pilot.id].items():
                person = Recipient(email.upper(), "Quelqu'un")
                assert bearer_for(ctx, NoticeKind.DELIVERABLE_REMINDER, person, {"pilote": pilot}) == replace(
                    bearer, person=email)  # the party's rights, held by that person
            nobody = Recipient("personne@example.org", "Personne")
            assert bearer_for(ctx, NoticeKind.DELIVERABLE_REMINDER, nobody, {"pilote": pilot}) is None
        assert read_bulk_keys(ctx) == (bulk_after == 1)


def read_bulk_keys(ctx) -> bool:  # noqa: ANN001
    """Whether the context read every pilot's bearers at once."""
    return ctx.memo.get(("pilot_bearers", "misses"), 0) >= links.BULK_AFTER


def test_a_link_is_signed_once_per_bearer_and_context_and_again_once_revoked(selected: str) -> None:
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        pilot = pilots(ctx)[0]
        consultant = ctx.definition.consultancy.contacts[0]
        person = Recipient(consultant.email, consultant.name)
        first = notice_link(ctx, NoticeKind.DELIVERABLE_REMINDER, person, {"pilote": pilot}, WHEN, settings=SETTINGS)
        again = notice_link(ctx, NoticeKind.DELIVERABLE_REMINDER, person, {"pilote": pilots(ctx)[1]}, WHEN,
                            settings=SETTINGS)
        assert first and first == again and first.endswith("/prestataire")
        own = links.consultant_bearer(ctx, consultant.email)
        issue_link(ctx, own, secret=SECRET, at=WHEN, days=120)
        renewed = notice_link(ctx, NoticeKind.DELIVERABLE_REMINDER, person, {"pilote": pilot}, WHEN, settings=SETTINGS)
        assert renewed and renewed != first
        token = renewed.removeprefix(BASE).split("/")[2]
        assert read_link(ctx, token, secret=SECRET, now=WHEN + timedelta(days=119)) == own
    with session_scope(selected) as session:  # another transaction: signed again, the same version
        ctx = ctx_of(session)
        later = notice_link(ctx, NoticeKind.DELIVERABLE_REMINDER, person, {"pilote": pilots(ctx)[0]}, WHEN,
                            settings=SETTINGS)
        assert later == renewed
