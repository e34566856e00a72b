"""Submission, deadline, versions, admissibility: on SQLite and on PostgreSQL."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from models.applications import decide_admissibility
from models.call import close_call
from models.errors import Refused
from models.tables import Application, ApplicationVersion, AuditEntry, Contact, Notice
from tests.conftest import EXAMPLES, at, ctx_of, open_call
from tests.guards import join_or_fail
from transitions.intake import Submission, read_application, submit_form

DEADLINE = at("2015-05-07T12:00")




def test_deadline_is_exact_to_the_second(loaded: str) -> None:
    open_call(loaded)
    form = read_application(EXAMPLES / "candidature-cu-arras.yaml")
    receipt = submit_form(loaded, form, DEADLINE - timedelta(seconds=1), None)
    assert (receipt.receipt_number, receipt.version) == ("CERDD-2015-0001", 1)
    with pytest.raises(Refused, match=r"date limite était le jeudi 7 mai 2015 à 12h00"):
        submit_form(loaded, form, DEADLINE, None)
    with pytest.raises(Refused, match="pas encore ouvert"):
        submit_form(loaded, form, at("2015-04-02T08:59"), None)
    from models.db import session_scope

    with session_scope(loaded) as session:
        versions = session.exec(select(ApplicationVersion)).all()
        refusals = session.exec(select(AuditEntry).where(AuditEntry.action == "candidature.refusee")).all()
    assert len(versions) == 1
    assert len(refusals) == 2


def test_resubmission_keeps_the_receipt_and_acknowledges_each_version_once(loaded: str) -> None:
    open_call(loaded)
    v1 = read_application(EXAMPLES / "candidature-ca-lens-lievin-v1.yaml")
    v2 = read_application(EXAMPLES / "candidature-ca-lens-lievin-v2.yaml")
    first = submit_form(loaded, v1, at("2015-04-16T15:40"), None)
    second = submit_form(loaded, v2, at("2015-05-05T16:20"), None)
    assert first.receipt_number == second.receipt_number
    assert (first.version, second.version) == (1, 2)
    from models.db import session_scope

    with session_scope(loaded) as session:
        acks = session.exec(select(Notice).where(Notice.kind == "accuse_reception")).all()
        application = session.exec(select(Application)).one()
    # One acknowledgement per version and per contact (operational lead and political referent).
    assert sorted((n.subject, n.recipient_email) for n in acks) == sorted(
        (f"Accusé de réception {first.receipt_number} (version {version})", email)
        for version in (1, 2)
        for email in ("n.haddad@agglo-lenslievin.example.org", "b.delcourt@agglo-lenslievin.example.org")
    )
    assert application.partnership["reseau_entreprises"] is True
    assert application.version == 2
    with session_scope(loaded) as session:
        contacts = session.exec(select(Contact)).all()
    assert {c.email for c in contacts} == {"n.haddad@agglo-lenslievin.example.org",
                                           "b.delcourt@agglo-lenslievin.example.org",
                                           "j.marchand@agglo-lenslievin.example.org"}


def test_a_new_version_updates_the_people_it_changes_and_keeps_the_others(loaded: str, tmp_path: Path) -> None:
    from models.db import session_scope

    open_call(loaded)
    original = EXAMPLES / "candidature-cu-arras.yaml"
    submit_form(loaded, read_application(original), at("2015-04-20T10:00"), None)
    with session_scope(loaded) as session:
        before = {c.email: (c.id, c.name, c.role, c.phone) for c in session.exec(select(Contact)).all()}
    changed = tmp_path / "candidature-cu-arras-v2.yaml"
    changed.write_text(original.read_text(encoding="utf-8").replace(
        "qualite: Chargé de mission développement durable", "qualite: Chef de projet transition"), encoding="utf-8")
    submit_form(loaded, read_application(changed, EXAMPLES), at("2015-04-21T10:00"), None)
    with session_scope(loaded) as session:
        after = {c.email: (c.id, c.name, c.role, c.phone) for c in session.exec(select(Contact)).all()}
    moved = "mehdi.benali@cu-arras.example.org"
    assert after[moved] == (*before[moved][:2], "Chef de projet transition", before[moved][3])
    assert {k: v for k, v in after.items() if k != moved} == {k: v for k, v in before.items() if k != moved}


def test_admissibility_at_the_deadline_with_the_calls_reason(loaded: str) -> None:
    open_call(loaded)
    for name in ("candidature-commune-bethune.yaml", "candidature-reseau-entreprises.yaml",
                 "candidature-cc-flandre-interieure.yaml"):
        submit_form(loaded, read_application(EXAMPLES / name), at("2015-04-20T10:00"), None)
    from models.db import session_scope

    with session_scope(loaded) as session:
        assert decide_admissibility(ctx_of(session), at("2015-05-06T10:00")) == 3  # direct rule call
        session.rollback()
    with session_scope(loaded) as session:
        assert close_call(ctx_of(session), DEADLINE - timedelta(seconds=1)) == 0  # not yet
        assert close_call(ctx_of(session), DEADLINE) == 4
        assert close_call(ctx_of(session), DEADLINE) == 0  # idempotent
    with session_scope(loaded) as session:
        rows = {a.lead_name: a for a in session.exec(select(Application)).all()}
        notices = session.exec(select(Notice)).all()
    bethune = rows["Ville de Béthune"]
    assert bethune.status == "non_recevable"
    assert "une commune seule ou un réseau d'entreprises" in (bethune.decision_reason or "")
    assert "Béthune, membre de CA de Béthune Bruay Noeux et Environs" in (bethune.decision_reason or "")
    assert "réseau d'entreprises seul" in (rows["Réseau Entreprendre Durable Hainaut"].decision_reason or "")
    assert rows["CC de Flandre Intérieure"].status == "recevable"
    refused = [n for n in notices if n.kind == "candidature_non_recevable"]
    assert {n.recipient_email for n in refused} == {
        "s.petit@bethune.example.org", "o.gosselin@bethune.example.org", "m.dubois@red-hainaut.example.org"}
    assert sum(1 for n in notices if n.kind == "convocation_jury") == 3


def test_user_text_is_inert_in_html_notices(loaded: str) -> None:
    open_call(loaded)
    received = read_application(EXAMPLES / "candidature-cu-arras.yaml")
    form = received.form
    hostile = form.model_copy(update={"collectivite_chef_de_file": form.collectivite_chef_de_file.model_copy(
        update={"nom": "<script>alert(1)</script> {{ 7*7 }}"})})
    submit_form(loaded, Submission(hostile, received.pieces), at("2015-04-20T10:00"), None)
    from models.db import session_scope

    with session_scope(loaded) as session:
        notice = session.exec(select(Notice).where(Notice.kind == "accuse_reception")).first()
    assert notice is not None
    assert "<script>" not in notice.body_html
    assert "&lt;script&gt;" in notice.body_html
    without_digests = re.sub(r"SHA-256 [0-9a-f]{64}", "", notice.body_text)  # the files' digests may hold « 49 »
    assert "{{ 7*7 }}" in notice.body_text and "49" not in without_digests


def test_two_ticks_at_once_advance_the_programme_once(loaded: str) -> None:
    import threading

    from models.db import session_scope
    from models.schedule import run_stage
    from notifications.render import render_notice

    barrier = threading.Barrier(2)
    changes: list[int] = []

    def tick() -> None:
        barrier.wait()
        with session_scope(loaded) as session:
            changes.append(run_stage(session, "lancement_appel", at("2015-04-02T09:00"), renderer=render_notice))

    threads = [threading.Thread(target=tick) for _ in range(2)]
    for thread in threads:
        thread.start()
    join_or_fail(threads, "deux ticks simultanés")
    with session_scope(loaded) as session:
        launched = session.exec(select(AuditEntry).where(AuditEntry.action == "appel.lance")).all()
        notices = session.exec(select(Notice)).all()
    assert sorted(changes) == [0, 1]
    assert len(launched) == 1 and len(notices) == 3


def test_no_submission_after_the_close_nor_older_than_the_last_version(loaded: str) -> None:
    open_call(loaded)
    v1 = read_application(EXAMPLES / "candidature-ca-lens-lievin-v1.yaml")
    v2 = read_application(EXAMPLES / "candidature-ca-lens-lievin-v2.yaml")
    submit_form(loaded, v2, at("2015-05-05T16:20"), None)
    with pytest.raises(Refused, match="Une version plus récente .* mardi 5 mai 2015 à 16h20"):
        submit_form(loaded, v1, at("2015-04-16T15:40"), None)
    from models.db import session_scope

    with session_scope(loaded) as session:
        close_call(ctx_of(session), DEADLINE)
    with pytest.raises(Refused, match="L'appel est clos"):
        submit_form(loaded, read_application(EXAMPLES / "candidature-cu-arras.yaml"), at("2015-05-06T10:00"), None)
