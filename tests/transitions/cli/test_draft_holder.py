"""`transitions candidatures adresse SIREN EMAIL`: the Cerdd gives a lead's online draft to another
address (after a stranger started it first); every mistake refused in French, nothing changed."""

from __future__ import annotations

from sqlmodel import select
from typer.testing import CliRunner

from models import drafts
from models.db import session_scope
from models.tables import ApplicationDraft, Notice
from tests.conftest import at, ctx_of, open_call
from transitions.cli import app

runner = CliRunner()


def test_the_cerdd_adds_an_address_to_a_draft_and_mistakes_change_nothing(loaded: str) -> None:
    open_call(loaded)
    with session_scope(loaded) as session:
        drafts.start(ctx_of(session), siren="200033579", email="intrus@example.org", at=at("2015-04-20T10:00"),
                     now=at("2015-04-20T10:00"))
    ok = runner.invoke(app, ["candidatures", "adresse", "200 033 579", "claire@cu-arras.example.org",
                             "--at", "2015-04-20T11:00", "--by", "aboutonne"])
    assert ok.exit_code == 0, ok.output
    assert "Adresse ajoutée" in ok.output
    noon = ["--at", "2015-04-20T12:00"]
    for args, words in ((["246200364", "a@example.org", *noon], "Aucune candidature en ligne"),
                        (["200033579", "pas-une-adresse", *noon], "adresse électronique valide"),
                        (["200033579", "b@example.org", "--at", "2015-05-07T12:00"], "date limite")):
        refused = runner.invoke(app, ["candidatures", "adresse", *args])
        assert refused.exit_code != 0 and words in refused.output, refused.output
        assert "Traceback" not in refused.output
    with session_scope(loaded) as session:
        draft = session.exec(select(ApplicationDraft)).one()
        assert draft.holders == ["intrus@example.org", "claire@cu-arras.example.org"]
        links = session.exec(select(Notice.recipient_email).where(Notice.kind == "lien_candidature")).all()
        assert sorted(links) == ["claire@cu-arras.example.org", "intrus@example.org"]
