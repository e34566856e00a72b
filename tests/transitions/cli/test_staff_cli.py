"""`transitions staff`: add (an invitation queued), list, role, disable, invite again; every act
audited with who ran it; mistakes told in French with their exit code."""

from __future__ import annotations

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from config.settings import reset_settings
from models.db import session_scope
from models.tables import AuditEntry, Notice, StaffMember
from transitions.cli import app

runner = CliRunner()
SECRET = "k3Jx9QvT2mLw8RbZ5nYc7HdF4sGp6AeU"


@pytest.fixture(autouse=True)
def _portal_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """An invitation's key is derived under the portal's secret: the commands need it."""
    monkeypatch.setenv("PORTAL_SECRET", SECRET)
    reset_settings()


def run(*args: str, expect: int = 0) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == expect, (args, result.output)
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


def test_the_team_on_the_command_line(loaded: str) -> None:
    said = run("staff", "add", "Direction@Cerdd.example.org", "--name", "Emmanuel Bertin", "--role", "direction",
               "--by", "installateur", "--at", "2015-04-01T10:00")
    assert "Compte créé pour Emmanuel Bertin (direction@cerdd.example.org), direction" in said
    run("staff", "add", "anne@cerdd.example.org", "--name", "Anne Martin", "--role", "lecture")
    listed = run("staff", "list")
    assert "direction@cerdd.example.org" in listed and "invitation en attente" in listed and "lecture seule" in listed
    assert "Rôle de anne@cerdd.example.org changé" in run("staff", "role", "anne@cerdd.example.org",
                                                          "charge_de_mission", "--by", "Emmanuel Bertin")
    assert "0 session(s) fermée(s)" in run("staff", "disable", "anne@cerdd.example.org")
    assert "désactivé" in run("staff", "list")
    run("staff", "invite", "anne@cerdd.example.org")
    with session_scope(loaded) as session:
        kinds = [n.recipient_email for n in session.exec(select(Notice).where(Notice.kind == "invitation_equipe"))]
        actors = {e.action: e.actor for e in session.exec(select(AuditEntry).where(
            AuditEntry.action.startswith("equipe.")))}  # type: ignore[attr-defined]
        anne = session.exec(select(StaffMember).where(StaffMember.email == "anne@cerdd.example.org")).one()
    assert sorted(kinds) == ["anne@cerdd.example.org", "anne@cerdd.example.org", "direction@cerdd.example.org"]
    assert actors["equipe.compte_cree"].startswith("cli:") and actors["equipe.role"] == "cli:Emmanuel Bertin"
    assert anne.active and anne.role == "charge_de_mission"


def test_mistakes_are_french_and_change_nothing(loaded: str) -> None:
    run("staff", "add", "a@cerdd.example.org", "--name", "A", "--role", "lecture")
    assert "Rôle inconnu « chef »" in run("staff", "add", "b@cerdd.example.org", "--name", "B", "--role", "chef",
                                          expect=2)
    assert "déjà un compte" in run("staff", "add", "A@cerdd.example.org", "--name", "A", "--role", "lecture",
                                   expect=4)
    assert "Adresse électronique refusée" in run("staff", "add", "pas une adresse", "--name", "C", "--role",
                                                 "lecture", expect=2)
    assert "Aucun membre de l'équipe" in run("staff", "disable", "z@cerdd.example.org", expect=3)
    with session_scope(loaded) as session:
        assert [m.email for m in session.exec(select(StaffMember))] == ["a@cerdd.example.org"]


def test_an_invitation_needs_the_portal_secret(loaded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    run("staff", "add", "a@cerdd.example.org", "--name", "Anne Martin", "--role", "lecture")
    monkeypatch.delenv("PORTAL_SECRET")
    reset_settings()
    for args in (("add", "b@cerdd.example.org", "--name", "Bob Martin", "--role", "lecture"),
                 ("invite", "a@cerdd.example.org")):
        assert "PORTAL_SECRET n'est pas défini" in run("staff", *args, expect=2)
    with session_scope(loaded) as session:
        assert [m.email for m in session.exec(select(StaffMember))] == ["a@cerdd.example.org"]
        assert len(session.exec(select(Notice).where(Notice.kind == "invitation_equipe")).all()) == 1
