"""`transitions link --person … --send | --revoke`: the command line's door to the back office's
« Renvoyer » and « Révoquer » (`models.links.send_link`, `revoke_link`): one person's links only,
audited with who ran it (`--by`)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from config.settings import reset_settings
from notifications.message import personal_link
from tests.conftest import start_arras
from tests.portal.helpers import audits, notices
from transitions.cli import app

runner = CliRunner()
PERSON = "claire.dufour@cu-arras.example.org"


def run(*args: str, expect: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == expect, result.output
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


def test_send_then_revoke_one_persons_link(selected: str, monkeypatch: pytest.MonkeyPatch,
                                           request: pytest.FixtureRequest) -> None:
    start_arras(selected)
    monkeypatch.setenv("PORTAL_SECRET", "k3Jx9QvT2mLw8RbZ5nYc7HdF4sGp6AeU")
    reset_settings()
    request.addfinalizer(reset_settings)
    who = ("--pilot", "200033579", "--party", "territoire")
    assert "--send et --revoke demandent --person" in run("link", *who, "--send", expect=2)
    assert "pas les deux" in run("link", *who, "--person", PERSON, "--send", "--revoke", expect=2)
    assert "rien à révoquer" in run("link", *who, "--person", PERSON, "--revoke", "--at", "2015-07-02T10:00")
    sent = run("link", *who, "--person", PERSON, "--send", "--by", "Claire", "--at", "2015-07-02T10:00")
    assert "envoyé par courriel" in sent and PERSON in sent
    mailed = notices(selected, "nouveau_lien")
    assert [n.recipient_email.lower() for n in mailed] == [PERSON] and personal_link(mailed[0])
    assert [a.actor for a in audits(selected, "lien.envoye")] == ["cli:Claire"]
    assert "révoqués" in run("link", *who, "--person", PERSON, "--revoke", "--by", "Claire", "--at",
                             "2015-07-02T10:05")
    assert [a.actor for a in audits(selected, "lien.revoque")] == ["cli:Claire"]
    assert "n'est pas un contact" in run("link", *who, "--person", "intrus@example.org", "--send", expect=2)
