"""The team's traces past retention (`models.staff_retention`), on both databases: an ended session,
a refused sign-in (and the IP address and address typed in its audit entry), a disabled account,
each purged at its deadline and not a second before; a dry run writes nothing; a second purge
changes nothing; the audit chains stay whole."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pyotp
import pytest
from sqlmodel import select

from models import staff, staff_sessions
from models.audit_chain import verify
from models.audit_hash import ERASED as ERASED_PART
from models.clock import add_paris, parse_duration
from models.db import session_scope
from models.erasure import ERASED, ERASED_BODY
from models.purge import PurgeReport, planned_purge, purge_programmes
from models.retention import purge_instant
from models.staff_retention import ACCOUNTS_KEPT, SESSIONS_KEPT, SIGN_INS_KEPT
from models.stages import StageName
from models.tables import (
    AuditEntry,
    Notice,
    StaffMember,
    StaffRecoveryCode,
    StaffSession,
    StaffSignInFailure,
    StaffToken,
)
from tests.conftest import at, ctx_of
from tests.models.test_purge import dump
from tests.staff_keys import SECRET, columns_holding, mailed_key

EMAIL = "anne.martin@cerdd.example.org"
NAME = "Anne Martin"
PASSWORD = "Bocage-Artois-1987!"
T0 = at("2015-06-10T10:00")
SECOND = timedelta(seconds=1)


def _after(start: datetime, duration: str) -> datetime:
    return add_paris(start, parse_duration(duration))


def _enrolled(url: str) -> str:
    """Anne invited and enrolled at T0; returns her TOTP secret."""
    with session_scope(url) as session:
        staff.add_member(ctx_of(session), EMAIL, NAME, "charge_de_mission", at=T0, by="cli:admin",
                         base_url="https://transitions.example.org", secret=SECRET)
    key = mailed_key(url)
    with session_scope(url) as session:
        member = staff.find_member(session, EMAIL)
        assert member.totp_secret
        staff.enrol(ctx_of(session), key, PASSWORD, PASSWORD, pyotp.TOTP(member.totp_secret).at(T0), at=T0)
        return member.totp_secret


def _sign_in(url: str, secret: str, when: datetime, password: str = PASSWORD) -> staff_sessions.SignIn:
    with session_scope(url) as session:
        return staff_sessions.sign_in(ctx_of(session), EMAIL, password, pyotp.TOTP(secret).at(when),
                                      address="192.0.2.7", at=when)


def _purge(url: str, when: datetime, tmp_path: Path, dry_run: bool = False) -> PurgeReport:
    return purge_programmes(url, when, dry_run=dry_run, outbox_dir=tmp_path)


def _purged_at(url: str, deadline: datetime, tmp_path: Path) -> PurgeReport:
    """Purge at `deadline` after checking that a second before nothing is due and that a dry run
    writes nothing; then that a second purge changes nothing and every audit chain is whole.
    Returns the purge's report (the dry run's, which must be the same)."""
    assert _purge(url, deadline - SECOND, tmp_path).counts == {}
    before = dump(url)
    trial = _purge(url, deadline, tmp_path, dry_run=True)
    assert dump(url) == before  # a dry run writes nothing
    done = _purge(url, deadline, tmp_path)
    assert (done.units, done.counts) == (trial.units, trial.counts)
    again = dump(url)
    assert _purge(url, deadline, tmp_path).counts == {}
    assert dump(url) == again  # a second purge changes nothing
    _chains_whole(url)
    return done


def _chains_whole(url: str) -> None:
    with session_scope(url) as session:
        chains = {entry.programme_id for entry in session.exec(select(AuditEntry))}
        for programme_id in chains:
            assert verify(session, programme_id).broken is None


def test_an_ended_session_goes_seven_days_after_its_end(loaded: str, tmp_path: Path) -> None:
    secret = _enrolled(loaded)
    signed = T0 + timedelta(minutes=1)
    result = _sign_in(loaded, secret, signed)
    assert result.key and result.member
    out = signed + timedelta(minutes=10)
    with session_scope(loaded) as session:
        member, row = staff_sessions.signed_in(session, result.key, out)
        staff_sessions.sign_out(ctx_of(session), member, row, at=out)
    done = _purged_at(loaded, _after(out, SESSIONS_KEPT), tmp_path)
    assert done.counts == {"sessions de l'équipe supprimées": 1}
    assert done.units == [("sessions de l'équipe", "1 session terminée")]
    with session_scope(loaded) as session:
        assert session.exec(select(StaffSession)).all() == []
        signed_entry = session.exec(select(AuditEntry).where(AuditEntry.action == "equipe.connexion")).one()
        assert signed_entry.details["adresse"] == "192.0.2.7"  # the sign-in stays in the journal for now


def test_an_open_session_is_kept_while_it_may_be_used(loaded: str, tmp_path: Path) -> None:
    secret = _enrolled(loaded)
    result = _sign_in(loaded, secret, T0 + timedelta(minutes=1))
    assert result.key
    with session_scope(loaded) as session:
        row = session.exec(select(StaffSession)).one()
    ended = min(row.expires_at, row.last_seen_at + staff_sessions.IDLE)  # idle: it ends without a visit
    assert _purge(loaded, _after(ended, SESSIONS_KEPT) - SECOND, tmp_path).counts == {}
    assert _purge(loaded, _after(ended, SESSIONS_KEPT), tmp_path).counts == {"sessions de l'équipe supprimées": 1}


def test_a_refused_sign_in_and_its_addresses_go_after_twelve_months(loaded: str, tmp_path: Path) -> None:
    secret = _enrolled(loaded)
    refused = T0 + timedelta(hours=1)
    assert _sign_in(loaded, secret, refused, password="Mauvais-mot-de-passe").refusal == staff_sessions.WRONG
    done = _purged_at(loaded, _after(refused, SIGN_INS_KEPT), tmp_path)
    assert done.counts == {"connexions refusées supprimées": 1,
                           "entrées de connexion du journal expurgées (adresse IP, adresse saisie)": 1}
    with session_scope(loaded) as session:
        assert session.exec(select(StaffSignInFailure)).all() == []
        entry = session.exec(select(AuditEntry).where(AuditEntry.action == "equipe.connexion_refusee")).one()
        assert entry.summary == ERASED_PART
        assert entry.details["adresse"] == ERASED_PART and entry.details["courriel"] == ERASED_PART
        assert entry.actor == "portail"  # the entry stays, its other parts provable
    assert "192.0.2.7" not in "\n".join(dump(loaded))


def test_a_disabled_account_is_anonymised_twelve_months_after(loaded: str, tmp_path: Path) -> None:
    _enrolled(loaded)
    disabled = T0 + timedelta(days=30)
    with session_scope(loaded) as session:
        staff.disable(ctx_of(session), EMAIL, at=disabled, by="cli:admin")
    assert columns_holding(loaded, EMAIL)
    done = _purged_at(loaded, _after(disabled, ACCOUNTS_KEPT), tmp_path)
    assert done.counts["comptes de l'équipe anonymisés"] == 1
    assert columns_holding(loaded, EMAIL) == [] and columns_holding(loaded, NAME) == []
    with session_scope(loaded) as session:
        member = session.exec(select(StaffMember)).one()
        assert member.name == ERASED and member.email.endswith("@efface.invalid") and not member.active
        assert member.password_hash is None and member.totp_secret is None and member.role == "charge_de_mission"
        for table in (StaffRecoveryCode, StaffToken, StaffSession):
            assert session.exec(select(table)).all() == []
        invitation = session.exec(select(Notice).where(Notice.kind == "invitation_equipe")).one()
        assert invitation.body_text == ERASED_BODY
        created = session.exec(select(AuditEntry).where(AuditEntry.action == "equipe.compte_cree")).one()
        assert created.entity_id == member.id and created.redacted_at is not None  # the entry stays


def test_an_account_invited_again_is_not_anonymised(loaded: str, tmp_path: Path) -> None:
    _enrolled(loaded)
    with session_scope(loaded) as session:
        staff.disable(ctx_of(session), EMAIL, at=T0 + timedelta(days=1), by="cli:admin")
    with session_scope(loaded) as session:
        staff.reinvite(ctx_of(session), staff.find_member(session, EMAIL), at=T0 + timedelta(days=2), by="cli:admin",
                       base_url="https://transitions.example.org", secret=SECRET)
    report = _purge(loaded, T0 + timedelta(days=800), tmp_path)
    assert "comptes de l'équipe anonymisés" not in report.counts
    with session_scope(loaded) as session:
        assert staff.find_member(session, EMAIL).name == NAME


def test_the_tick_plans_the_team_s_purge_in_a_live_programme(loaded: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from config.settings import reset_settings
    from flows.plain import run_one_stage

    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path))
    reset_settings()
    secret = _enrolled(loaded)
    refused = T0 + timedelta(hours=1)
    _sign_in(loaded, secret, refused, password="Mauvais-mot-de-passe")
    day_after = purge_instant(_after(refused, SIGN_INS_KEPT))  # 11 June 2016, 8h00 Paris time
    with session_scope(loaded) as session:
        assert day_after in planned_purge(ctx_of(session))
    assert run_one_stage(StageName.PURGE, day_after) == 2  # the refused sign-in, its audit entry
    assert run_one_stage(StageName.PURGE, day_after) == 0
    with session_scope(loaded) as session:
        assert session.exec(select(StaffSignInFailure)).all() == []
    reset_settings()
