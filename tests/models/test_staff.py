"""Staff accounts in the domain: invitation, enrolment (password rules, TOTP), recovery codes,
sign-in with replay refused, throttling, sessions revoked, reset links, roles as data."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pyotp
import pytest
from sqlmodel import select

from models import staff, staff_sessions
from models.db import session_scope
from models.errors import InvalidInput, Refused
from models.tables import AuditEntry, Notice, StaffMember, StaffRole, StaffSession
from tests.conftest import at, ctx_of
from tests.guards import join_or_fail
from tests.staff_keys import SECRET, mailed_link

BASE = "https://transitions.example.org"
PASSWORD = "Bocage-Artois-1987!"
T0 = at("2015-06-10T10:00")


def _invite(url: str, email: str = "anne.martin@cerdd.example.org", role: str = "charge_de_mission") -> str:
    """Add a member; returns the key of the invitation mailed to them (read from the outbox)."""
    with session_scope(url) as session:
        staff.add_member(ctx_of(session), email, "Anne Martin", role, at=T0, by="cli:admin", base_url=BASE,
                         secret=SECRET)
    return _mailed_key(url, "invitation_equipe", "invitation")


def _mailed_key(url: str, kind: str, path: str) -> str:
    link = mailed_link(url, kind)
    assert link.startswith(f"{BASE}/equipe/{path}/"), link
    return link.rsplit("/", 1)[1]


def _secret(url: str, email: str = "anne.martin@cerdd.example.org") -> str:
    with session_scope(url) as session:
        member = staff.member_by_email(session, email)
        assert member is not None and member.totp_secret
        return member.totp_secret


def _enrolled(url: str, role: str = "charge_de_mission") -> tuple[str, list[str]]:
    key = _invite(url, role=role)
    secret = _secret(url)
    with session_scope(url) as session:
        codes = staff.enrol(ctx_of(session), key, PASSWORD, PASSWORD, pyotp.TOTP(secret).at(T0), at=T0)
    return secret, codes


def _sign_in(url: str, code: str, when: object = None, password: str = PASSWORD,
             email: str = "anne.martin@cerdd.example.org", address: str = "192.0.2.1") -> staff_sessions.SignIn:
    with session_scope(url) as session:
        return staff_sessions.sign_in(ctx_of(session), email, password, code, address=address, at=when or T0)


def _actions(url: str, action: str) -> list[AuditEntry]:
    with session_scope(url) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


def test_an_invitation_enrols_password_and_totp_once(loaded: str) -> None:
    key = _invite(loaded)
    secret = _secret(loaded)
    with session_scope(loaded) as session:  # a bad password and a bad code: every problem at once
        with pytest.raises(InvalidInput) as refused:
            staff.enrol(ctx_of(session), key, "anne.martin", "autre", "000000", at=T0)
    assert len(refused.value.details) >= 4
    with session_scope(loaded) as session:
        codes = staff.enrol(ctx_of(session), key, PASSWORD, PASSWORD, pyotp.TOTP(secret).at(T0), at=T0)
    assert len(codes) == 10 and len(set(codes)) == 10
    with session_scope(loaded) as session:
        member = staff.find_member(session, "Anne.Martin@cerdd.example.org")
        assert member.password_hash and member.password_hash.startswith("$argon2id$")
        assert PASSWORD not in member.password_hash and member.enrolled_at == T0
        with pytest.raises(staff.StaffLinkUsed):  # the link served once
            staff.enrol(ctx_of(session), key, PASSWORD, PASSWORD, pyotp.TOTP(secret).at(T0), at=T0)
    assert len(_actions(loaded, "equipe.compte_active")) == 1


def test_an_invitation_expires_and_an_address_has_one_account(loaded: str) -> None:
    key = _invite(loaded)
    late = T0 + staff.INVITATION_LIFETIME
    with session_scope(loaded) as session:
        with pytest.raises(staff.StaffLinkExpired):
            staff.enrol(ctx_of(session), key, PASSWORD, PASSWORD, pyotp.TOTP(_secret(loaded)).at(late), at=late)
        with pytest.raises(Refused):
            staff.add_member(ctx_of(session), "ANNE.martin@cerdd.example.org", "Anne", "lecture", at=T0, by="x",
                             base_url=BASE, secret=SECRET)
        with pytest.raises(InvalidInput):
            staff.add_member(ctx_of(session), "b@cerdd.example.org", "Bob", "chef", at=T0, by="x", base_url=BASE,
                             secret=SECRET)
        with pytest.raises(InvalidInput):
            staff.add_member(ctx_of(session), "b@cerdd.example.org", "Bob\nEve", "lecture", at=T0, by="x",
                             base_url=BASE, secret=SECRET)


def test_sign_in_accepts_a_totp_code_once_and_a_recovery_code_once(loaded: str) -> None:
    secret, codes = _enrolled(loaded)
    later = T0 + timedelta(minutes=5)
    code = pyotp.TOTP(secret).at(later)
    first = _sign_in(loaded, code, later)
    assert first.key and first.refusal is None
    replayed = _sign_in(loaded, code, later + timedelta(seconds=10))
    assert replayed.key is None and replayed.refusal == staff_sessions.WRONG
    assert _sign_in(loaded, codes[0], later).key  # a recovery code, as printed
    assert _sign_in(loaded, codes[0], later).key is None  # used
    assert _sign_in(loaded, codes[1].replace("-", "").upper(), later).key  # typed without hyphens
    assert _sign_in(loaded, pyotp.TOTP(secret).at(later + timedelta(minutes=1)), password="Mauvais-mot-2015").key \
        is None


def test_unknown_address_and_wrong_password_get_the_same_answer(loaded: str) -> None:
    secret, _ = _enrolled(loaded)
    code = pyotp.TOTP(secret).at(T0 + timedelta(minutes=2))
    unknown = _sign_in(loaded, code, T0 + timedelta(minutes=2), email="personne@cerdd.example.org")
    wrong = _sign_in(loaded, code, T0 + timedelta(minutes=2), password="pas-le-bon-mot-de-passe")
    assert unknown.refusal == wrong.refusal == staff_sessions.WRONG
    assert len(_actions(loaded, "equipe.connexion_refusee")) == 2


def test_throttling_per_account_and_per_address(loaded: str) -> None:
    secret, _ = _enrolled(loaded)
    when = T0 + timedelta(minutes=3)
    for n in range(staff_sessions.ACCOUNT_LIMIT):
        assert _sign_in(loaded, "123456", when, password=f"faux-{n}", address=f"198.51.100.{n}").refusal
    blocked = _sign_in(loaded, pyotp.TOTP(secret).at(when), when)  # even the right answer, from anywhere
    assert blocked.throttled and blocked.refusal == staff_sessions.TOO_MANY and blocked.key is None
    assert len(_actions(loaded, "equipe.connexion_bloquee")) == 1
    assert len(_actions(loaded, "equipe.connexion_refusee")) == staff_sessions.ACCOUNT_LIMIT  # blocked: no write
    after = when + staff_sessions.THROTTLE_WINDOW + timedelta(minutes=1)
    assert _sign_in(loaded, pyotp.TOTP(secret).at(after), after).key
    # password spraying from one address over many accounts
    for n in range(staff_sessions.ADDRESS_LIMIT):
        _sign_in(loaded, "123456", after, email=f"agent{n}@cerdd.example.org", address="203.0.113.9")
    sprayed = _sign_in(loaded, pyotp.TOTP(secret).at(after + timedelta(minutes=1)), after, address="203.0.113.9")
    assert sprayed.throttled


def test_sessions_end_idle_old_signed_out_everywhere_or_disabled(loaded: str) -> None:
    secret, _ = _enrolled(loaded)
    keys = [_sign_in(loaded, pyotp.TOTP(secret).at(T0 + timedelta(minutes=m)), T0 + timedelta(minutes=m)).key
            for m in (1, 2, 3)]
    assert all(keys)
    with session_scope(loaded) as session:
        member, _ = staff_sessions.signed_in(session, keys[0] or "", T0 + timedelta(minutes=20))
        assert member.email == "anne.martin@cerdd.example.org"
    with session_scope(loaded) as session:  # idle 30 minutes since its last visit
        with pytest.raises(staff_sessions.StaffSignedOut):
            staff_sessions.signed_in(session, keys[1] or "", T0 + timedelta(minutes=32))
    with session_scope(loaded) as session:
        member, _ = staff_sessions.signed_in(session, keys[0] or "", T0 + timedelta(minutes=45))
        assert staff_sessions.sign_out_everywhere(ctx_of(session), member, at=T0 + timedelta(minutes=45)) == 3
    with session_scope(loaded) as session:
        with pytest.raises(staff_sessions.StaffSignedOut):
            staff_sessions.signed_in(session, keys[0] or "", T0 + timedelta(minutes=46))
    late = T0 + timedelta(hours=1)
    key = _sign_in(loaded, pyotp.TOTP(secret).at(late), late).key or ""
    with session_scope(loaded) as session:
        assert staff.disable(ctx_of(session), "anne.martin@cerdd.example.org", at=late, by="cli:admin") == 1
    with session_scope(loaded) as session:
        with pytest.raises(staff_sessions.StaffSignedOut):
            staff_sessions.signed_in(session, key, late + timedelta(minutes=1))
    assert _sign_in(loaded, pyotp.TOTP(secret).at(late + timedelta(minutes=2)), late + timedelta(minutes=2)).key \
        is None


def test_a_reset_link_works_once_in_time_with_the_second_factor(loaded: str) -> None:
    secret, codes = _enrolled(loaded)
    asked = T0 + timedelta(hours=2)
    with session_scope(loaded) as session:
        staff.request_reset(ctx_of(session), "anne.martin@cerdd.example.org", at=asked, base_url=BASE, secret=SECRET)
        staff.request_reset(ctx_of(session), "inconnu@cerdd.example.org", at=asked, base_url=BASE, secret=SECRET)
    key = _mailed_key(loaded, "reinitialisation_equipe", "reinitialisation")
    with session_scope(loaded) as session:  # asked again at once: nothing more is sent
        staff.request_reset(ctx_of(session), "anne.martin@cerdd.example.org", at=asked, base_url=BASE, secret=SECRET)
        assert len(session.exec(select(Notice).where(Notice.kind == "reinitialisation_equipe")).all()) == 1
    new = "Terril-Lens-2015-neuf"
    with session_scope(loaded) as session:
        with pytest.raises(InvalidInput):  # a weak password: nothing changes, the link still works
            staff.reset_password(ctx_of(session), key, "court", "court", codes[3], at=asked)
    with session_scope(loaded) as session:
        assert staff.reset_password(ctx_of(session), key, new, new, codes[3], at=asked)
    with session_scope(loaded) as session:
        with pytest.raises(staff.StaffLinkUsed):
            staff.reset_password(ctx_of(session), key, new, new, codes[4], at=asked)
    assert _sign_in(loaded, pyotp.TOTP(secret).at(asked), asked, password=new).key
    later = asked + timedelta(minutes=20)
    with session_scope(loaded) as session:
        staff.request_reset(ctx_of(session), "anne.martin@cerdd.example.org", at=later, base_url=BASE, secret=SECRET)
    late_key = _mailed_key(loaded, "reinitialisation_equipe", "reinitialisation")
    with session_scope(loaded) as session:
        with pytest.raises(staff.StaffLinkExpired):
            staff.reset_password(ctx_of(session), late_key, new + "x", new + "x", codes[5],
                                 at=later + staff.RESET_LIFETIME)
    guessed = later + timedelta(minutes=20)
    with session_scope(loaded) as session:
        staff.request_reset(ctx_of(session), "anne.martin@cerdd.example.org", at=guessed, base_url=BASE, secret=SECRET)
    guessed_key = _mailed_key(loaded, "reinitialisation_equipe", "reinitialisation")
    with session_scope(loaded) as session:  # a wrong code spends the link: one guess per link
        assert not staff.reset_password(ctx_of(session), guessed_key, new + "y", new + "y", "000000", at=guessed)
    with session_scope(loaded) as session:
        with pytest.raises(staff.StaffLinkUsed):
            staff.reset_password(ctx_of(session), guessed_key, new + "y", new + "y", codes[5], at=guessed)
    assert len(_actions(loaded, "equipe.reinitialisation_refusee")) == 1


def test_roles_are_data_and_reading_acts_on_nothing(loaded: str) -> None:
    reader = StaffMember(email="dreal@example.org", name="DREAL", role=StaffRole.READER)
    officer = StaffMember(email="cm@example.org", name="CM", role=StaffRole.PROJECT_OFFICER)
    direction = StaffMember(email="dir@example.org", name="Dir", role=StaffRole.DIRECTION)
    assert set(staff.PERMISSIONS) == set(staff.StaffAct)
    for act in staff.StaffAct:
        assert bool(staff.may(reader, act)) == (act == staff.StaffAct.READ)
        assert staff.may(direction, act)
    assert not staff.may(officer, staff.StaffAct.DECIDE_SELECTION)
    assert staff.may(officer, staff.StaffAct.RECORD_ATTENDANCE)
    with pytest.raises(staff.StaffForbidden, match="lecture seule"):
        staff.may(reader, staff.StaffAct.RUN_SESSIONS).enforce()
    _invite(loaded)
    with session_scope(loaded) as session:
        assert staff.change_role(ctx_of(session), "anne.martin@cerdd.example.org", "direction", at=T0, by="cli:x")
        assert not staff.change_role(ctx_of(session), "anne.martin@cerdd.example.org", "direction", at=T0, by="x")
    entry, = _actions(loaded, "equipe.role")
    assert entry.actor == "cli:x" and entry.details == {"avant": "charge_de_mission", "role": "direction"}


def _at_once(url: str, code: str, when: datetime, n: int = 4) -> list[staff_sessions.SignIn]:
    """`n` sign-ins with the same code started together, each in its own transaction."""
    gate, results = threading.Barrier(n), []

    def attempt(k: int) -> None:
        gate.wait()
        with session_scope(url) as session:
            if session.get_bind().dialect.name == "sqlite":  # as the portal's door does: SQLite has no row locks
                session.connection().exec_driver_sql("BEGIN IMMEDIATE")
            results.append(staff_sessions.sign_in(ctx_of(session), "anne.martin@cerdd.example.org", PASSWORD, code,
                                                  address=f"192.0.2.{10 + k}", at=when))

    threads = [threading.Thread(target=attempt, args=(k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    join_or_fail(threads, "connexions simultanées")
    return results


def test_one_code_opens_one_session_even_typed_in_four_tabs_at_once(loaded: str) -> None:
    """PostgreSQL let four simultaneous sign-ins with the same TOTP code (or recovery code) each open
    a session: every transaction read the member before any recorded the code's step."""
    secret, codes = _enrolled(loaded)
    when = T0 + timedelta(minutes=4)
    totp = _at_once(loaded, pyotp.TOTP(secret).at(when), when)
    assert sorted(bool(r.key) for r in totp) == [False, False, False, True]
    recovery = _at_once(loaded, codes[0], when)
    assert sorted(bool(r.key) for r in recovery) == [False, False, False, True]
    with session_scope(loaded) as session:
        assert len(session.exec(select(StaffSession)).all()) == 2


def test_a_new_invitation_ends_a_reset_link_mailed_before(loaded: str) -> None:
    """`staff invite` (a phone lost) starts the account again: a reset link mailed before kept
    working, and set a password on the account waiting for its new enrolment."""
    _enrolled(loaded)
    asked = T0 + timedelta(hours=1)
    with session_scope(loaded) as session:
        staff.request_reset(ctx_of(session), "anne.martin@cerdd.example.org", at=asked, base_url=BASE, secret=SECRET)
    key = _mailed_key(loaded, "reinitialisation_equipe", "reinitialisation")
    with session_scope(loaded) as session:
        member = staff.find_member(session, "anne.martin@cerdd.example.org")
        staff.reinvite(ctx_of(session), member, at=asked + timedelta(minutes=5), by="cli:admin", base_url=BASE,
                       secret=SECRET)
    later = asked + timedelta(minutes=10)
    with session_scope(loaded) as session:
        with pytest.raises(staff.StaffLinkUsed):
            staff.reset_password(ctx_of(session), key, "Terril-Lens-2015-neuf", "Terril-Lens-2015-neuf",
                                 pyotp.TOTP(_secret(loaded)).at(later), at=later)
