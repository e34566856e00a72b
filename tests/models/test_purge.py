"""The purge on both databases (RGPD art. 5-1-e): an inadmissible application past its retention
is anonymised in one transaction, its form still reads, its people are nowhere, a second purge
and a dry run change nothing; within retention nothing moves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from models.db import get_engine, session_scope
from models.erasure import ERASED
from models.forms import form_of
from models.purge import purge_programmes
from models.retention import past_retention
from models.schedule import STAGES
from models.stages import StageName
from models.tables import Application, ApplicationStatus, AuditEntry
from tests.conftest import EXAMPLES, at, ctx_of, open_call


def dump(url: str) -> list[str]:
    """Every row of every table as text (the audit's real-time column aside)."""
    engine = get_engine(url)
    lines: list[str] = []
    with engine.connect() as connection:
        for table in sorted(inspect(connection).get_table_names()):
            for row in connection.execute(text(f'SELECT * FROM "{table}"')).mappings():
                lines.append(f"{table} " + json.dumps({k: v for k, v in row.items() if k != "recorded_at"},
                                                      default=lambda v: v.hex() if isinstance(v, bytes) else str(v),
                                                      ensure_ascii=False, sort_keys=True))
    return sorted(lines)


def bethune_applies(url: str) -> list[str]:
    """The CU d'Arras and the Ville de Béthune apply, the call closes: Béthune is not admissible.
    Returns the names, addresses and phones Béthune's form gives."""
    from models.call import close_call
    from transitions.intake import read_application, submit_form

    open_call(url)
    for name in ("candidature-cu-arras.yaml", "candidature-commune-bethune.yaml"):
        submit_form(url, read_application(EXAMPLES / name), at("2015-04-20T10:00"), None)
    with session_scope(url) as session:
        close_call(ctx_of(session), at("2015-05-07T12:00"))
    form = read_application(EXAMPLES / "candidature-commune-bethune.yaml").form
    people = form.responsables_operationnels + form.referents_politiques + form.referents_techniques
    return ([p.nom for p in people] + [p.courriel for p in people] + [p.telephone for p in people if p.telephone]
            + [form.collectivite_chef_de_file.courriel])


def test_the_purge_stage_runs_last_in_the_tick() -> None:
    assert STAGES[-1].name == StageName.PURGE


def test_an_inadmissible_application_is_anonymised_after_its_retention(loaded: str, tmp_path: Path) -> None:
    people = bethune_applies(loaded)
    within = purge_programmes(loaded, at("2017-05-01T00:00"), outbox_dir=tmp_path)  # P24M not over
    assert within.units == [] and within.counts == {}

    before = dump(loaded)
    trial = purge_programmes(loaded, at("2017-06-01T00:00"), dry_run=True, outbox_dir=tmp_path)
    assert trial.units == [("candidature non retenue", "CERDD-2015-0002")]
    assert trial.counts["candidatures non retenues anonymisées"] == 1
    assert dump(loaded) == before  # a dry run writes nothing

    done = purge_programmes(loaded, at("2017-06-01T00:00"), outbox_dir=tmp_path)
    assert done.units == trial.units and done.counts == trial.counts
    after = "\n".join(dump(loaded)).lower()
    assert [p for p in people if p.lower() in after] == []
    with session_scope(loaded) as session:
        bethune = session.get(Application, 2)
        assert bethune is not None and bethune.status == ApplicationStatus.INADMISSIBLE  # the status stays
        form = form_of(session, bethune)  # still a valid form: pages and reports read it
        assert form.collectivite_chef_de_file.nom == "Ville de Béthune" and form.motivations == ERASED
        arras = form_of(session, session.get(Application, 1))  # type: ignore[arg-type]
        assert arras.responsables_operationnels[0].nom == "Claire Dufour"  # the other applicant untouched
        last = session.exec(AuditEntry.__table__.select().order_by(AuditEntry.__table__.c.id.desc())).first()  # type: ignore[attr-defined]
        assert last is not None and last.action == "donnees.effacees" and "CERDD-2015-0002" in last.summary
        assert past_retention(ctx_of(session), at("2017-06-01T00:00")) == []

    again = dump(loaded)
    assert purge_programmes(loaded, at("2017-06-01T00:00"), outbox_dir=tmp_path).units == []
    assert dump(loaded) == again  # a second purge at the same instant changes nothing


def test_the_tick_plans_and_runs_the_purge_of_a_live_programme(loaded: str, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import reset_settings
    from flows.plain import run_one_stage
    from models.retention import planned

    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path))
    reset_settings()
    people = bethune_applies(loaded)
    with session_scope(loaded) as session:
        instants = planned(ctx_of(session))
    day_after = at("2017-05-08T08:00")  # decided 7 May 2015 12:00 (no jury yet) + P24M, the next day at 8h00
    assert day_after in instants
    assert run_one_stage(StageName.PURGE, at("2017-05-07T11:59")) == 0  # its retention ends at 12:00
    assert run_one_stage(StageName.PURGE, day_after) == 1
    assert run_one_stage(StageName.PURGE, day_after) == 0  # idempotent
    assert [p for p in people if p.lower() in "\n".join(dump(loaded)).lower()] == []
    reset_settings()


def notices_to(url: str, clause: str) -> list[str]:
    return [line for line in dump(url) if line.startswith("notice ") and clause in line]


def test_the_purge_of_an_application_leaves_the_other_applications_notices(loaded: str, tmp_path: Path) -> None:
    bethune_applies(loaded)
    arras = notices_to(loaded, "cu-arras.example.org")
    assert arras
    purge_programmes(loaded, at("2017-06-01T00:00"), outbox_dir=tmp_path)
    assert notices_to(loaded, "cu-arras.example.org") == arras


def test_a_persons_erasure_replaces_only_her_identifiers_in_a_notice_to_someone_else(loaded: str) -> None:
    """A notice to Mehdi Benali naming Claire Dufour and the CU d'Arras: after her erasure, her name,
    address and phone are replaced, the organisation's name and the rest stay (RGPD art. 17)."""
    from models.person_data import find_person
    from models.read.person import person_export
    from models.rights import erase_person
    from models.tables import Notice

    bethune_applies(loaded)
    named = ("Réunion avec Claire Dufour (claire.dufour@cu-arras.example.org, 03 21 21 87 10) "
             "de la CU d'Arras, jeudi.")
    with session_scope(loaded) as session:
        notice = session.exec(Notice.__table__.select().where(  # type: ignore[attr-defined]
            Notice.__table__.c.recipient_email == "mehdi.benali@cu-arras.example.org")).first()  # type: ignore[attr-defined]
        assert notice is not None
        row = session.get(Notice, notice.id)
        assert row is not None
        row.body_text = f"{row.body_text}\n{named}"
        session.add(row)
        number = row.id
    with session_scope(loaded) as session:
        export = person_export(session, "claire.dufour@cu-arras.example.org")
        assert [m.id for m in export.mentions] == [number] and export.names == ("Claire Dufour",)
        found = find_person(session, "claire.dufour@cu-arras.example.org")
        result = erase_person(session, found, at=at("2018-01-03T10:00"), actor="test", reason="Demande")
        assert any("d'autres personnes" in kept.reason for kept in result.kept)
    with session_scope(loaded) as session:
        after = session.get(Notice, number)
        assert after is not None and after.recipient_email == "mehdi.benali@cu-arras.example.org"
        assert after.body_text.endswith(f"Réunion avec {ERASED} ({ERASED}, {ERASED}) de la CU d'Arras, jeudi.")
        assert "Claire" not in after.body_text and after.body_text.count("\n") > 2
