"""What a newcomer sees after `transitions demo`: a replacement pilot's charter states its own terms,
a withdrawn pilot's pages say so, the juror's page after the meeting, the consultancy's page."""

from __future__ import annotations

import html
import re

from models.db import session_scope
from models.participation import charter_sha256, charter_text
from models.pilots import extend_charter, find_pilot, withdraw
from tests.conftest import at, ctx_of
from tests.portal.conftest import ARRAS, consultancy, link, territory

FLANDRE, MAUBEUGE = "200040947", "200043396"


def _withdraw_flandre(url: str) -> None:
    with session_scope(url) as session:
        ctx = ctx_of(session)
        withdraw(ctx, find_pilot(ctx, FLANDRE), reason="Délibération non obtenue", at=at("2015-07-06T10:00"))


def test_a_later_pilots_charter_states_its_own_terms(selected: str) -> None:
    """A pilot with its own, later deadline (a replacement, or an extension) signs words that name
    that deadline and no calendar start date: the accompaniment starts at the last signature."""
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        later = find_pilot(ctx, FLANDRE)
        extend_charter(ctx, later, to=at("2015-07-21T18:00"), reason="Place proposée le 6 juillet",
                       at=at("2015-06-10T10:00"))
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        original, replacement = charter_text(ctx, find_pilot(ctx, ARRAS)), charter_text(ctx, find_pilot(ctx, FLANDRE))
        stable = charter_sha256(ctx, find_pilot(ctx, FLANDRE))
    for text in (original, replacement):
        assert "commence à la date de la dernière des trois signatures" in text
        assert "1er juillet" not in text and "- le prestataire : " in text and ") (" not in text
    assert "signe avant le mardi 21 juillet 2015 à 18h00" in replacement
    assert "21 juillet" not in original
    with session_scope(selected) as session:  # the same pilot state gives the same words
        assert charter_sha256(ctx_of(session), find_pilot(ctx_of(session), FLANDRE)) == stable
