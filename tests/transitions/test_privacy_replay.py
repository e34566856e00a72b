"""Issue 24's « Done when » for retention and the person's rights, on the 2015 replay (a copy of
the shared one): a purge at 2018-01-01 leaves the report's figures as they were, leaves no name,
address or phone of a territory not retained in the database, the outbox or the stored files,
leaves the pilots' data within retention untouched, and changes nothing when run again or as a
dry run; a person's export, then erasure, then export show what is kept and why."""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from config.settings import reset_settings
from models.context import load_ctx
from models.db import dispose_engines, get_engine, session_scope
from models.purge import purge_programmes
from models.read.report_data import report_data
from tests.conftest import at
from tests.models.test_purge import dump
from transitions.cli import app

PURGE_AT = at("2018-01-01T00:00")
PILOT_TABLES = ("chartersignature", "attendance", "deliverablefile", "trainingsession", "pilot")


def figures(url: str) -> list[tuple[str, Any]]:
    """Every number, date, flag and state code of the report at 2018-01-01, by its place (the audit
    chain's head aside)."""
    found: list[tuple[str, Any]] = []

    def walk(path: str, value: Any) -> None:
        if isinstance(value, dict):
            for key in sorted(value, key=repr):
                walk(f"{path}/{key!r}", value[key])
        elif isinstance(value, list | tuple | set | frozenset):
            for number, item in enumerate(sorted(value, key=repr) if isinstance(value, set | frozenset) else value):
                walk(f"{path}/{number}", item)
        elif value is None or isinstance(value, int | float | datetime):
            found.append((path, value))
        elif path.endswith(("status", "kind", "state")):
            found.append((path, value))

    with session_scope(url) as session:
        data = dataclasses.asdict(report_data(load_ctx(session), PURGE_AT))
    data.pop("audit_head", None)  # the audit log's head: the purge's own entries are chained after it, by design
    walk("", data)
    return found


def not_retained_people(url: str) -> set[str]:
    """The names, addresses and phones of the territories not retained: inadmissible applications and
    EPCI that announced one without applying (or whose mail came late)."""
    people: set[str] = set()
    with get_engine(url).connect() as connection:
        rows = connection.execute(text(
            "SELECT c.name, c.email, c.phone FROM contact c "
            "JOIN application a ON a.organisation_id = c.organisation_id "
            "WHERE a.status IN ('non_recevable', 'non_retenue')")).all()
        rows += connection.execute(text("SELECT contact_name, contact_email, '' FROM intent WHERE siren NOT IN "
                                        "(SELECT lead_siren FROM application)")).all()
        for (payload,) in connection.execute(text(
                "SELECT v.payload FROM applicationversion v JOIN application a ON a.id = v.application_id "
                "WHERE a.status IN ('non_recevable', 'non_retenue')")):
            form = json.loads(payload) if isinstance(payload, str) else payload
            for key in ("responsables_operationnels", "referents_politiques", "referents_techniques"):
                rows += [(p["nom"], p["courriel"], p.get("telephone") or "") for p in form[key]]
    for row in rows:
        people |= {value for value in row if value}
    return people


def chains_whole(url: str) -> bool:
    from models.audit_chain import verify

    with session_scope(url) as session:
        return all(verify(session, programme_id).whole for programme_id in (1, None))


def pilots_rows(url: str) -> list[str]:
    return [line for line in dump(url) if line.split(" ", 1)[0] in PILOT_TABLES]


@pytest.fixture
def copy(replayed: tuple[Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    source, _ = replayed
    out = tmp_path / "rejeu"
    shutil.copytree(source, out, ignore=shutil.ignore_patterns("*.lock", ".prefect"))
    url = f"sqlite:///{out / 'transitions.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("OUTBOX_DIR", str(out / "outbox"))
    monkeypatch.setenv("DATA_DIR", str(out))
    reset_settings()
    yield out, url
    dispose_engines()
    reset_settings()


def test_a_purge_at_2018_erases_the_territories_not_retained_and_keeps_the_figures(copy: tuple[Path, str]) -> None:
    out, url = copy
    people = not_retained_people(url)
    assert {"Sandrine Petit", "s.petit@bethune.example.org", "Damien Hochart", "Sophie Lemaire"} <= people
    report, pilots, files = figures(url), pilots_rows(url), sorted((out / "outbox").iterdir())

    trial = CliRunner().invoke(app, ["privacy", "purge", "--at", "2018-01-01", "--dry-run"])
    assert trial.exit_code == 0, trial.output
    assert "serait effacé" in trial.output and "candidatures non retenues anonymisées" in trial.output
    before = dump(url)
    assert sorted((out / "outbox").iterdir()) == files
    done = purge_programmes(url, PURGE_AT, outbox_dir=out / "outbox")
    assert ("candidature non retenue", "CERDD-2015-0003") in done.units
    assert done.counts["candidatures non retenues anonymisées"] == 2 and done.counts["intentions anonymisées"] == 2

    assert figures(url) == report
    assert chains_whole(url)  # the audit log stays valid: entries changed only through redact_entries
    assert pilots_rows(url) == pilots  # the pilots' year, within its retention (P60M), untouched
    database = "\n".join(dump(url)).lower()
    assert sorted(p for p in people if p.lower() in database) == []
    outbox = "\n".join(p.read_bytes().decode("utf-8", "replace") for p in (out / "outbox").iterdir()).lower()
    assert sorted(p for p in people if p.lower() in outbox) == []
    assert len(files) - len(list((out / "outbox").iterdir())) == done.files > 0
    assert before != dump(url)

    settled = dump(url)
    again = CliRunner().invoke(app, ["privacy", "purge", "--at", "2018-01-01"])
    assert again.exit_code == 0 and "rien à effacer" in again.output
    assert dump(url) == settled


def test_export_then_erasure_of_a_pilot_contact(copy: tuple[Path, str]) -> None:
    out, url = copy
    runner = CliRunner()
    first = runner.invoke(app, ["privacy", "export", "--person", "E.Verhaeghe@CCFI.example.org",
                                "--out", str(out / "a")])
    assert first.exit_code == 0, first.output
    held = json.loads((out / "a" / "donnees.json").read_text(encoding="utf-8"))
    tables = {row["table"] for row in held["lignes"]}
    assert {"contact", "notice", "mailmessage", "applicationversion"} <= tables and "Élodie Verhaeghe" in held["noms"]
    assert "Élodie Verhaeghe" in (out / "a" / "donnees.html").read_text(encoding="utf-8")

    for hostile in ("e.verhaeghe@ccfi.example.or%", "e_verhaeghe@ccfi.example.org", "е.verhaeghe@ccfi.example.org"):
        refused = runner.invoke(app, ["privacy", "erase", "--person", hostile, "--reason", "x", "--at", "2018-01-02"])
        assert refused.exit_code == 1 and "Aucune donnée" in refused.output, hostile

    settled = dump(url)
    trial = runner.invoke(app, ["privacy", "erase", "--person", "e.verhaeghe@ccfi.example.org", "--reason",
                                "Demande écrite", "--at", "2018-01-02", "--dry-run"])
    assert trial.exit_code == 0 and "serait effacé" in trial.output and dump(url) == settled
    erased = runner.invoke(app, ["privacy", "erase", "--person", "e.verhaeghe@ccfi.example.org", "--reason",
                                 "Demande écrite de Élodie Verhaeghe", "--at", "2018-01-02"])
    assert erased.exit_code == 0, erased.output
    assert "Ce qui est gardé" in erased.output and "accompagnement" in erased.output
    with get_engine(url).connect() as connection:
        last = connection.execute(text("SELECT summary, details FROM auditentry ORDER BY id DESC LIMIT 1")).one()
    assert "Verhaeghe" not in str(last) and "Demande écrite" in last.summary
    assert chains_whole(url)

    second = runner.invoke(app, ["privacy", "export", "--person", "e.verhaeghe@ccfi.example.org",
                                 "--out", str(out / "b")])
    assert second.exit_code == 0, second.output
    after = json.loads((out / "b" / "donnees.json").read_text(encoding="utf-8"))
    assert all(row["conservation"] for row in after["lignes"])  # only what is kept, each with why
    assert "mailmessage" not in {row["table"] for row in after["lignes"]}
    notices = [row for row in after["lignes"] if row["table"] == "notice"]
    assert notices and all(row["valeurs"]["body_text"].startswith("Contenu effacé") for row in notices)


def test_erasure_of_a_person_of_an_application_not_retained_leaves_nothing(copy: tuple[Path, str]) -> None:
    out, url = copy
    runner = CliRunner()
    erased = runner.invoke(app, ["privacy", "erase", "--person", "S.PETIT@bethune.example.org", "--reason",
                                 "Demande", "--at", "2016-01-02"])
    assert erased.exit_code == 0, erased.output
    assert "Rien n'est gardé" in erased.output
    database = "\n".join(dump(url)).lower()
    assert "s.petit@bethune.example.org" not in database and "sandrine petit" not in database
    assert "o.gosselin@bethune.example.org" in database  # her colleague did not ask
    assert not any(b"s.petit@bethune" in path.read_bytes().lower() for path in (out / "outbox").iterdir())
    after = runner.invoke(app, ["privacy", "export", "--person", "s.petit@bethune.example.org", "--out", str(out)])
    assert after.exit_code == 1 and "Aucune donnée" in after.output


def rows_of(url: str, query: str) -> list[Any]:
    with get_engine(url).connect() as connection:
        return list(connection.execute(text(query)).all())


def test_erasure_of_a_pilot_contact_touches_only_her_identifiers(copy: tuple[Path, str]) -> None:
    """Claire Dufour (CU d'Arras, a pilot) asks for erasure: the organisation's name is no needle,
    notices to others stay whole (and their .eml files), the jury's decision and other people's
    attendance entries stay, her own notices' bodies are erased."""
    out, url = copy
    her = "claire.dufour@cu-arras.example.org"
    others = f"SELECT * FROM notice WHERE lower(recipient_email) != '{her}' ORDER BY id"
    notices_before = rows_of(url, others)
    decision = "SELECT actor, summary, details FROM auditentry WHERE action LIKE 'jury.%' ORDER BY id"
    attendance = ("SELECT id, actor, summary, details FROM auditentry WHERE action = 'session.emargement' "
                  "AND summary NOT LIKE '%Claire Dufour%' ORDER BY id")
    decision_before, attendance_before = rows_of(url, decision), rows_of(url, attendance)
    assert decision_before and attendance_before
    attendance = attendance.replace("AND summary NOT LIKE '%Claire Dufour%'", "AND id IN ({})".format(
        ", ".join(str(row[0]) for row in attendance_before)))
    files_before = sorted(p.name for p in (out / "outbox").iterdir())
    runner = CliRunner()
    exported = runner.invoke(app, ["privacy", "export", "--person", her, "--out", str(out / "a"), "--at", "2018-01-03"])
    assert exported.exit_code == 0, exported.output
    held = json.loads((out / "a" / "donnees.json").read_text(encoding="utf-8"))
    assert held["noms"] == ["Claire Dufour"]  # never « CU d'Arras »

    args = ["privacy", "erase", "--person", her, "--reason", "Demande", "--at", "2018-01-03"]
    trial = runner.invoke(app, [*args, "--dry-run"])
    erased = runner.invoke(app, args)
    assert trial.exit_code == erased.exit_code == 0, erased.output
    assert trial.output.split("Ce qui est gardé")[1] == erased.output.split("Ce qui est gardé")[1]
    assert trial.output.split("\n", 1)[1] == erased.output.split("\n", 1)[1]  # the same counts
    shown = " ".join(erased.output.split())
    assert "versions de" in shown and not any(t in shown for t in ("applicationversion", "attendance", "portalgrant",
                                                                     "intent", "mailmessage", "notice"))

    assert rows_of(url, others) == notices_before  # nobody else's notice names her: all whole
    assert rows_of(url, decision) == decision_before and rows_of(url, attendance) == attendance_before
    hers = rows_of(url, f"SELECT body_text FROM notice WHERE lower(recipient_email) = '{her}'")
    assert len(hers) == len([r for r in held["lignes"] if r["table"] == "notice"]) > 0
    assert all(body.startswith("Contenu effacé") for (body,) in hers)
    left = {p.name for p in (out / "outbox").iterdir()}
    assert left < set(files_before) and len(files_before) - len(left) <= len(hers)
    assert not any(her.encode() in (out / "outbox" / name).read_bytes().lower() for name in left)
    assert chains_whole(url)


def test_the_export_page_is_written_for_the_person(copy: tuple[Path, str]) -> None:
    out, _ = copy
    result = CliRunner().invoke(app, ["privacy", "export", "--person", "claire.dufour@cu-arras.example.org",
                                      "--out", str(out), "--at", "2018-01-03"])
    assert result.exit_code == 0, result.output
    page = (out / "donnees.html").read_text(encoding="utf-8")
    for title in ("Vos candidatures", "Avis qui vous ont été envoyés", "Vos présences aux sessions",
                  "Durée de conservation : candidature non retenue : 24 mois"):
        assert title in page, title
    for raw in ("contact_email", "declared_at", "body_text", "dedup_key", "claimed_until", "link_version",
                "personal_salt", "+00:00", ">True<", ">False<"):
        assert raw not in page, raw
    assert "jeudi 7 mai 2015 à 11h48" in page  # her application, in Paris time
    held = json.loads((out / "donnees.json").read_text(encoding="utf-8"))
    assert all(row["duree_de_conservation"] for row in held["lignes"])
    assert any("dedup_key" in row["valeurs"] for row in held["lignes"])  # the JSON keeps every column
