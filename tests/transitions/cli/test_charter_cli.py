"""`transitions sign --sha256` signs the frozen text or refuses another (nothing written), and
`transitions charter certificate` prints and writes the certificate (HTML, PDF read back)."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader
from sqlmodel import select
from typer.testing import CliRunner

from models.charter_text import charter_sha256
from models.db import session_scope
from models.pilots import find_pilot
from models.tables import AuditEntry, CharterSignature, CharterText
from tests.conftest import ctx_of
from transitions.cli import app

runner = CliRunner()
LENS = "246200364"


def run(*args: str, expect: int = 0) -> str:
    result = runner.invoke(app, list(args), env={"COLUMNS": "250"})
    assert result.exit_code == expect, result.output
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


def _counts(url: str) -> tuple[int, int, int]:
    with session_scope(url) as session:
        return (len(session.exec(select(CharterSignature)).all()), len(session.exec(select(CharterText)).all()),
                len(session.exec(select(AuditEntry)).all()))


def test_sign_checks_the_hash_and_the_certificate_lists_one_text(selected: str, tmp_path: Path) -> None:
    with session_scope(selected) as session:
        read = charter_sha256(ctx_of(session), find_pilot(ctx_of(session), LENS))
    before = _counts(selected)
    refused = run("sign", LENS, "--party", "cerdd", "--signatory", "Emmanuel Bertin", "--sha256", "f" * 64,
                  "--at", "2015-06-15T09:35", expect=4)
    assert "Le texte de la charte a changé depuis que vous l'avez lu" in refused
    assert "Rien n'a été enregistré" in refused
    assert "illisible" in run("sign", LENS, "--party", "cerdd", "--signatory", "E", "--sha256", "abc", expect=2)
    assert _counts(selected) == before
    said = run("sign", LENS, "--party", "cerdd", "--signatory", "Emmanuel Bertin", "--sha256", read.upper(),
               "--by", "aboutonne", "--at", "2015-06-15T09:35")
    assert "Signature enregistrée" in said and f"Texte signé : SHA-256 {read}" in said
    run("sign", LENS, "--party", "prestataire", "--signatory", "Cheffe de projet", "--at", "2015-06-16T14:05")
    run("charter", "extend", LENS, "--to", "2015-07-10T18:00", "--reason", "Délibération le 9 juillet",
        "--at", "2015-06-29T10:00")
    run("sign", LENS, "--party", "territoire", "--signatory", "Bernard Delcourt", "--role", "Président",
        "--sha256", read, "--at", "2015-07-07T11:00")  # after the first deadline: the Cerdd extended it
    html, pdf = tmp_path / "certificat.html", tmp_path / "certificat.pdf"
    shown = run("charter", "certificate", LENS, "--html", str(html), "--pdf", str(pdf), "--at", "2015-07-08T09:00")
    assert f"texte SHA-256 {read}" in shown and shown.count(f"SHA-256 {read}") == 4 and "AUTRE" not in shown
    with session_scope(selected) as session:
        ids = sorted(r.audit_entry_id or 0 for r in session.exec(select(CharterSignature)).all())
    assert all(f"journal n° {entry_id}" in shown for entry_id in ids) and len(ids) == 3
    assert "ligne de commande" in shown
    page = html.read_text(encoding="utf-8")
    assert page.count(read) == 4 and "cli:aboutonne" in page and "Bernard Delcourt (Président)" in page
    words = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.read_bytes())).pages).split())
    assert read in words.replace(" ", "") and "Bernard Delcourt (Président)" in words
    assert all(f"n° {entry_id}" in words for entry_id in ids) and "« Règles de travail collaboratif »" in words
    assert "Impossible d'écrire" in run("charter", "certificate", LENS, "--pdf", str(tmp_path / "absent" / "c.pdf"),
                                        expect=2)
