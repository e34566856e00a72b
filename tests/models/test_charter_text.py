"""One charter text per pilot, frozen at its first signature; every signature records the SHA-256 of
exactly the text it signed and refuses another; the signing deadline binds the portal, not the text."""

from __future__ import annotations

import copy

import pytest
from sqlmodel import select

from models import charter, charter_text
from models.db import session_scope
from models.errors import InvalidInput, Refused
from models.pilots import find_pilot
from models.tables import AuditEntry, CharterSignature, CharterText, Programme
from tests.conftest import at, ctx_of

LENS, ARRAS = "246200364", "200033579"


def _rows(url: str) -> tuple[int, int, int]:
    with session_scope(url) as session:
        return (len(session.exec(select(CharterSignature)).all()), len(session.exec(select(CharterText)).all()),
                len(session.exec(select(AuditEntry).where(AuditEntry.action == "charte.signee")).all()))


def test_a_charter_extended_mid_signature_ends_with_three_signatures_of_one_text(selected: str) -> None:
    """The Lens case: the Cerdd and the consultancy sign, the Cerdd extends the deadline, the
    territory signs after the first deadline; the three signatures record one SHA-256, the frozen
    text's, each pointing at its own audit entry that records it too."""
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        lens = find_pilot(ctx, LENS)
        read_before = charter_text.charter_sha256(ctx, lens)
        charter.sign_charter(ctx, lens, party="cerdd", signatory="Emmanuel Bertin", at=at("2015-06-15T09:35"),
                             sha256=read_before)
        charter.sign_charter(ctx, lens, party="prestataire", signatory="Cheffe de projet", at=at("2015-06-16T14:05"))
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        lens = find_pilot(ctx, LENS)
        assert charter.extend_charter(ctx, lens, to=at("2015-07-10T18:00"), reason="Délibération le 9 juillet",
                                      at=at("2015-06-29T10:00"))
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        lens = find_pilot(ctx, LENS)
        assert charter_text.charter_sha256(ctx, lens) == read_before  # the extension left the text alone
        charter.sign_charter(ctx, lens, party="territoire", signatory="Bernard Delcourt", at=at("2015-07-07T11:00"),
                             channel=charter.Channel.PORTAL,
                             via=("lien personnel territoire:246200364, version 2", "b.delcourt@lens.example.org"),
                             sha256=read_before)
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        lens = find_pilot(ctx, LENS)
        kept = charter_text.frozen(ctx, lens)
        assert kept is not None and kept.frozen_at == at("2015-06-15T09:35") and kept.sha256 == read_before
        assert charter_text.sha256_of(kept.text) == kept.sha256 and "10 juillet" not in kept.text
        rows = session.exec(select(CharterSignature).where(CharterSignature.pilot_id == lens.id)).all()
        assert {r.party: r.text_sha256 for r in rows} == dict.fromkeys(("cerdd", "prestataire", "territoire"),
                                                                       kept.sha256)
        for row in rows:
            entry = session.get(AuditEntry, row.audit_entry_id)
            assert entry is not None and entry.action == "charte.signee" and entry.entity_id == lens.id
            assert entry.details["partie"] == row.party and entry.details["charte_sha256"] == kept.sha256
        assert {r.party: (r.via, r.via_person) for r in rows}["territoire"] == (
            "lien personnel territoire:246200364, version 2", "b.delcourt@lens.example.org")


def _redefine(url: str, consultancy: str) -> None:
    """The programme's definition changes after signatures began (a new consultancy's name)."""
    with session_scope(url) as session:
        programme = session.exec(select(Programme)).one()
        data = copy.deepcopy(programme.definition)
        data["consultancy"]["name"] = consultancy
        programme.definition = data
        session.add(programme)


def test_a_later_change_of_the_definition_never_changes_what_remains_to_be_signed(selected: str) -> None:
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        charter.sign_charter(ctx, find_pilot(ctx, ARRAS), party="cerdd", signatory="X", at=at("2015-06-10T10:00"))
        signed_words = charter_text.charter_text(ctx, find_pilot(ctx, ARRAS))
        unsigned_read = charter_text.charter_sha256(ctx, find_pilot(ctx, LENS))
    _redefine(selected, "Cabinet Renommé")
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        arras, lens = find_pilot(ctx, ARRAS), find_pilot(ctx, LENS)
        assert charter_text.charter_text(ctx, arras) == signed_words and "Cabinet Renommé" not in signed_words
        assert "Cabinet Renommé" in charter_text.charter_text(ctx, lens)  # no one signed it yet: the draft follows
        charter.sign_charter(ctx, arras, party="territoire", signatory="Y", at=at("2015-06-11T10:00"),
                             sha256=charter_text.sha256_of(signed_words))
    before = _rows(selected)
    with session_scope(selected) as session, pytest.raises(Refused) as refused:
        ctx = ctx_of(session)
        charter.sign_charter(ctx, find_pilot(ctx, LENS), party="cerdd", signatory="Z", at=at("2015-06-11T10:00"),
                             sha256=unsigned_read)
    assert "Le texte de la charte a changé depuis que vous l'avez lu" in refused.value.message
    assert "Rien n'a été enregistré" in refused.value.message
    assert _rows(selected) == before
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        digests = {r.text_sha256 for r in session.exec(select(CharterSignature)).all()}
        assert digests == {charter_text.sha256_of(signed_words)}


@pytest.mark.parametrize("given", ["0" * 64, "pas une empreinte", ""])
def test_a_stale_or_unreadable_hash_is_refused_and_changes_nothing(selected: str, given: str) -> None:
    before = _rows(selected)
    expected = Refused if given == "0" * 64 else InvalidInput
    with session_scope(selected) as session, pytest.raises(expected) as refused:
        ctx = ctx_of(session)
        charter.sign_charter(ctx, find_pilot(ctx, ARRAS), party="territoire", signatory="X",
                             at=at("2015-06-10T10:00"), sha256=given)
    assert "Rien n'a été enregistré" in refused.value.message and _rows(selected) == before


def test_the_deadline_closes_the_portal_until_the_cerdd_extends_it(selected: str) -> None:
    late = at("2015-06-26T18:00")  # the programme's deadline, reached
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        arras = find_pilot(ctx, ARRAS)
        closed = charter.may_sign(ctx, arras, "territoire", late, charter.Channel.PORTAL)
        assert not closed and closed.reason and "a expiré le vendredi 26 juin 2015 à 18h00" in closed.reason
        assert charter.may_sign(ctx, arras, "territoire", at("2015-06-26T17:59"), charter.Channel.PORTAL)
        assert charter.may_sign(ctx, arras, "territoire", late, charter.Channel.CLI)  # the Cerdd's own door
        with pytest.raises(Refused, match="Seul le Cerdd peut prolonger ce délai"):
            charter.sign_charter(ctx, arras, party="territoire", signatory="X", at=late, channel="portail")
        charter.extend_charter(ctx, arras, to=at("2015-07-03T18:00"), reason="Conseil communautaire", at=late)
        assert charter.sign_charter(ctx, arras, party="territoire", signatory="X", at=late, channel="portail")


def test_migration_0020_gives_earlier_signatures_their_hash_and_audit_entry(selected: str) -> None:
    """Signatures recorded before 0020 get back the SHA-256 and the id of their audit entry; their
    text was never stored, so none is frozen for them."""
    from alembic import command
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from models.db import MIGRATIONS_DIR, get_engine

    with session_scope(selected) as session:
        ctx = ctx_of(session)
        for party in ("cerdd", "territoire"):
            charter.sign_charter(ctx, find_pilot(ctx, ARRAS), party=party, signatory="X", at=at("2015-06-10T10:00"))
    with session_scope(selected) as session:
        before = sorted((r.party, r.text_sha256, r.audit_entry_id) for r in session.exec(select(CharterSignature)))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = get_engine(selected)
    command.downgrade(config, str(ScriptDirectory.from_config(config).get_revision("0020").down_revision))
    command.upgrade(config, "head")
    with session_scope(selected) as session:
        after = sorted((r.party, r.text_sha256, r.audit_entry_id) for r in session.exec(select(CharterSignature)))
        assert session.exec(select(CharterText)).all() == []
    assert after == before and all(sha and entry for _, sha, entry in after)
