"""Signing the Cerdd's team in: e-mail, password and second factor; throttling; server-side
sessions that sign-out, « se déconnecter partout », a reset and `staff disable` revoke at once.

A session is a row (`StaffSession`) named by the SHA-256 of a random key the browser holds in a
signed cookie (the portal's door). It ends after `IDLE` without a visit, `LIFETIME` after sign-in
whatever happens, or when revoked. Refused sign-ins are counted per address typed and per client
address over `THROTTLE_WINDOW` (`ACCOUNT_LIMIT`, `ADDRESS_LIMIT`): past either, every attempt is
refused unread, in French; the refusal that reaches a limit is audited once (no write for the
attempts after it: a flood cannot fill the audit log). An unknown address, a wrong password and
a wrong code get the same answer after the same work (see `models.staff.check_password`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from models.context import ProgrammeContext
from models.links import LinkRefused
from models.staff import (
    actor,
    check_password,
    digest,
    hash_password,
    member_by_email,
    member_id,
    needs_rehash,
    revoke_sessions,
    second_factor,
)
from models.tables import StaffMember, StaffSession, StaffSignInFailure

IDLE = timedelta(minutes=30)
LIFETIME = timedelta(hours=10)
"""A working day: after it, sign in again whatever happened."""
THROTTLE_WINDOW = timedelta(minutes=15)
ACCOUNT_LIMIT = 5
"""Refused sign-ins for one address typed within the window before it is blocked."""
ADDRESS_LIMIT = 20
"""Refused sign-ins from one client address within the window before it is blocked."""

WRONG = "Adresse électronique, mot de passe ou code incorrect."
TOO_MANY = ("Trop de tentatives de connexion refusées : réessayez dans 15 minutes. Si vous avez oublié "
            "votre mot de passe, utilisez « Mot de passe oublié ».")


class StaffSignedOut(LinkRefused):
    """No valid session: never signed in, signed out, revoked, idle or too old (401)."""

    reason = "session"


@dataclass(frozen=True)
class SignIn:
    """What a sign-in attempt gives: a session key for the cookie, or a French refusal
    (`throttled`: refused unread, status 429)."""

    key: str | None = None
    member: StaffMember | None = None
    refusal: str | None = None
    throttled: bool = False


def _failures(session: Session, at: datetime, **where: str) -> int:
    (name, value), = where.items()
    column = col(getattr(StaffSignInFailure, name))
    return session.exec(select(func.count()).select_from(StaffSignInFailure).where(
        column == value, StaffSignInFailure.at > at - THROTTLE_WINDOW)).one()


def throttled(session: Session, email: str, address: str, at: datetime) -> bool:
    """Whether sign-ins for `email` or from `address` are blocked at `at`."""
    return (_failures(session, at, email=email) >= ACCOUNT_LIMIT
            or _failures(session, at, address=address) >= ADDRESS_LIMIT)


def sign_in(ctx: ProgrammeContext, email: str, password: str, code: str, *, address: str, at: datetime) -> SignIn:
    """Check an address, a password and a second factor (a TOTP code accepted once, or an unused
    recovery code) at `at` (real time) from the client `address`: a new session, or a refusal,
    recorded and audited in the caller's transaction either way."""
    typed = email.strip().lower()[:320]
    address = address[:64]
    member = member_by_email(ctx.session, typed, lock=True)  # first: a code is checked and spent by one at a time
    if throttled(ctx.session, typed, address, at):
        return SignIn(refusal=TOO_MANY, throttled=True)
    usable = member is not None and member.active and member.enrolled_at is not None
    stored = member.password_hash if member is not None and usable else None
    good = check_password(stored, password[:1024]) and member is not None
    if not (good and member is not None and second_factor(ctx.session, member, code[:64], at)):
        return _refused(ctx, typed, address, at)
    if member.password_hash is not None and needs_rehash(member.password_hash):
        member.password_hash = hash_password(password)
    key = secrets.token_urlsafe(32)
    row = StaffSession(staff_id=member_id(member), digest=digest(key), address=address, created_at=at, last_seen_at=at,
                       expires_at=at + LIFETIME)
    ctx.session.add_all([member, row])
    ctx.session.flush()
    ctx.audit(at, actor(member), "equipe.connexion", "staff_session", row.id,
              f"{member.name} s'est connecté·e depuis {address}.", adresse=address)
    return SignIn(key=key, member=member)


def _refused(ctx: ProgrammeContext, typed: str, address: str, at: datetime) -> SignIn:
    ctx.session.add(StaffSignInFailure(at=at, email=typed, address=address))
    ctx.session.flush()
    shown = typed[:80]
    ctx.audit(at, "portail", "equipe.connexion_refusee", "staff_member", None,
              f"Connexion refusée pour « {shown} » depuis {address}.", courriel=shown, adresse=address)
    if throttled(ctx.session, typed, address, at):
        ctx.audit(at, "portail", "equipe.connexion_bloquee", "staff_member", None,
                  f"Trop de connexions refusées pour « {shown} » ou depuis {address} : bloquées "
                  f"{int(THROTTLE_WINDOW.total_seconds() // 60)} minutes.", courriel=shown, adresse=address)
    return SignIn(refusal=WRONG)


def signed_in(session: Session, key: str, now: datetime) -> tuple[StaffMember, StaffSession]:
    """The member and session a cookie's key names at `now`, the visit recorded (idle time
    restarts); StaffSignedOut when there is none or it ended."""
    row = session.exec(select(StaffSession).where(StaffSession.digest == digest(key[:200]))).first()
    member = session.get(StaffMember, row.staff_id) if row is not None else None
    if row is None or member is None or row.revoked_at is not None or not member.active:
        raise StaffSignedOut("Vous n'êtes pas connecté·e, ou votre session a été fermée : connectez-vous.")
    if now >= row.expires_at or now - row.last_seen_at >= IDLE:
        raise StaffSignedOut("Votre session a expiré : connectez-vous à nouveau.")
    row.last_seen_at = now
    session.add(row)
    return member, row


def sign_out(ctx: ProgrammeContext, member: StaffMember, row: StaffSession, *, at: datetime) -> None:
    """Close this session."""
    row.revoked_at = at
    ctx.session.add(row)
    ctx.audit(at, actor(member), "equipe.deconnexion", "staff_session", row.id, f"{member.name} s'est déconnecté·e.")


def sign_out_everywhere(ctx: ProgrammeContext, member: StaffMember, *, at: datetime) -> int:
    """Close every session of `member` (every browser); returns how many."""
    closed = revoke_sessions(ctx.session, member, at)
    ctx.audit(at, actor(member), "equipe.deconnexion_partout", "staff_member", member.id,
              f"{member.name} a fermé ses {closed} session(s) ouvertes.")
    return closed
