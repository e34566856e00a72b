"""How long the traces of the Cerdd's team accounts are kept, and their purge (RGPD art. 5-1-e;
the register of processing, « Comptes de l'équipe du Cerdd », states these durations).

Team accounts belong to no programme (one team runs them all), so their durations are not in a
programme file's `retention:`: they are these constants, read by the register
(`models.processing`), and not settings either, so that the register the software prints is what
it does. Each programme's purge (`models.purge`) includes the team's units: the first to run
erases them, the others find nothing left.

- An ended session (`StaffSession`: revoked, past its lifetime or idle) is deleted `SESSIONS_KEPT`
  after it ended: nothing can use it again; the sign-in stays in the audit log.
- A refused sign-in (`StaffSignInFailure`) served its throttling within minutes; as a security log
  it is kept `SIGN_INS_KEPT` (the CNIL recommends 6 months to a year), then deleted, and the
  address typed and the client's IP address are expunged from the audit entries of sign-ins
  (`equipe.connexion`, `equipe.connexion_refusee`, `equipe.connexion_bloquee`) of that age.
- A disabled account is anonymised `ACCOUNTS_KEPT` after it was disabled: name and address
  replaced, password hash, second factor, recovery codes, links, sessions and refused sign-ins
  under its address gone, the notices it received erased, its name and address expunged from the
  audit log (through `models.audit.redact_entries`: the entries stay, provable). Its row stays,
  with its role and dates, so the audit entries about it still name an account. An account
  invited again (`staff invite`) is active: nothing is counted until it is disabled again.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, delete, select

from models import audit
from models.audit import Replacement
from models.audit_hash import ERASED as ERASED_PART
from models.clock import add_paris, parse_duration
from models.erasure import ERASED, Needles, erase_notice
from models.retention import Unit, UnitKind
from models.staff_sessions import IDLE
from models.tables import (
    AuditEntry,
    Notice,
    StaffMember,
    StaffRecoveryCode,
    StaffSession,
    StaffSignInFailure,
    StaffToken,
)

SESSIONS_KEPT = "P7D"
"""An ended session's row, after its end: a week to look into a sign-in the team did not expect."""
SIGN_INS_KEPT = "P12M"
"""Refused sign-ins, and the IP addresses and addresses typed in the sign-in audit entries."""
ACCOUNTS_KEPT = "P12M"
"""A disabled account, after it was disabled."""
SIGN_IN_ACTIONS = ("equipe.connexion", "equipe.connexion_refusee", "equipe.connexion_bloquee")
SIGN_IN_DETAILS = ("adresse", "courriel")
"""The details of a sign-in's audit entry that name a client or an address typed."""


def _after(start: datetime, duration: str) -> datetime:
    return add_paris(start, parse_duration(duration))


def session_end(row: StaffSession) -> datetime:
    """When a session ended (or will end without a visit): revoked, else the earlier of its
    lifetime and its idle limit (`models.staff_sessions.IDLE`)."""
    return row.revoked_at or min(row.expires_at, row.last_seen_at + IDLE)


def _sign_in_entries(session: Session) -> list[AuditEntry]:
    """The sign-in audit entries with a summary, an IP address or an address typed not expunged yet."""
    rows = session.exec(select(AuditEntry).where(col(AuditEntry.action).in_(SIGN_IN_ACTIONS))
                        .order_by(col(AuditEntry.id))).all()
    return [entry for entry in rows if entry.summary != ERASED_PART
            or any((entry.details or {}).get(key) not in (None, ERASED_PART) for key in SIGN_IN_DETAILS)]


def _expunged(entry: AuditEntry, needles: Needles | None = None) -> Replacement:
    """What `entry` becomes for `redact_entries`: `needles` scrubbed from its texts; a sign-in's
    summary, IP address and address typed erased whole."""
    needles = needles or Needles()
    actor, summary = needles.scrub(entry.actor), needles.scrub(entry.summary)
    details = needles.scrub_value(entry.details or {})
    if entry.action in SIGN_IN_ACTIONS:
        summary = ERASED_PART
        details = {k: ERASED_PART if k in SIGN_IN_DETAILS else v for k, v in details.items()}
    return actor, summary, details


def ends(session: Session) -> list[tuple[UnitKind, int, datetime]]:
    """Every trace of the team not erased yet: (its unit's kind, its row, when its retention ends)."""
    found = [(UnitKind.STAFF_SESSIONS, row.id or 0, _after(session_end(row), SESSIONS_KEPT))
             for row in session.exec(select(StaffSession))]
    found += [(UnitKind.STAFF_SIGN_INS, row.id or 0, _after(row.at, SIGN_INS_KEPT))
              for row in session.exec(select(StaffSignInFailure))]
    found += [(UnitKind.STAFF_SIGN_IN_ENTRIES, entry.id or 0, _after(entry.at, SIGN_INS_KEPT))
              for entry in _sign_in_entries(session)]
    found += [(UnitKind.STAFF_ACCOUNT, member.id or 0, _after(member.disabled_at, ACCOUNTS_KEPT))
              for member in session.exec(select(StaffMember).where(col(StaffMember.active).is_(False),
                                                                   StaffMember.name != ERASED))
              if member.disabled_at is not None]
    return found


_GROUPED = {UnitKind.STAFF_SESSIONS: ("session terminée", "sessions terminées"),
            UnitKind.STAFF_SIGN_INS: ("connexion refusée", "connexions refusées"),
            UnitKind.STAFF_SIGN_IN_ENTRIES: ("entrée de connexion du journal", "entrées de connexion du journal")}


def _counted(kind: UnitKind, n: int) -> str:
    """« 1 session terminée », « 3 sessions terminées »."""
    return f"{n} {_GROUPED[kind][n > 1]}"


def past(session: Session, at: datetime) -> list[Unit]:
    """The team's units past retention at `at`: each account alone, then the sessions, the refused
    sign-ins and the sign-in audit entries, each kind as one unit listing its rows."""
    due = sorted((kind, row, ended) for kind, row, ended in ends(session) if ended <= at)
    units = [Unit(kind, row, f"compte n° {row}", ended) for kind, row, ended in due if kind == UnitKind.STAFF_ACCOUNT]
    for kind in _GROUPED:
        rows = [(row, ended) for each, row, ended in due if each == kind]
        if rows:
            units.append(Unit(kind, 0, _counted(kind, len(rows)), max(e for _, e in rows),
                              rows=tuple(r for r, _ in rows)))
    return units


def purge(session: Session, unit: Unit, *, programme_id: int | None, at: datetime, actor: str) -> Counter[str]:
    """Erase one of the team's units in the caller's transaction, declared in the audit log of
    `programme_id` (a `donnees.effacees` entry naming rows, never people). Counts per category."""
    counts = Counter[str]()
    reason = f"durée de conservation échue ({unit.kind.value} {unit.label})"
    if unit.kind == UnitKind.STAFF_ACCOUNT:
        member = session.get(StaffMember, unit.id)
        assert member is not None
        replacements = anonymise_account(session, member, counts)
        audit.redact_entries(session, replacements, programme_id=programme_id, at=at, actor=actor, reason=reason)
        return counts
    if unit.kind == UnitKind.STAFF_SIGN_IN_ENTRIES:  # those an account's anonymisation left
        wanted = set(unit.rows)
        replacements = {entry.id or 0: _expunged(entry) for entry in _sign_in_entries(session) if entry.id in wanted}
        if replacements:
            counts["entrées de connexion du journal expurgées (adresse IP, adresse saisie)"] += len(replacements)
            audit.redact_entries(session, replacements, programme_id=programme_id, at=at, actor=actor, reason=reason)
        return counts
    table: Any = StaffSession if unit.kind == UnitKind.STAFF_SESSIONS else StaffSignInFailure
    rows = sorted(session.exec(select(table.id).where(col(table.id).in_(unit.rows))).all())  # still there
    if not rows:
        return counts
    session.exec(delete(table).where(col(table.id).in_(rows)))
    word = "sessions de l'équipe supprimées" if table is StaffSession else "connexions refusées supprimées"
    counts[word] += len(rows)
    summary = f"Traces de l'équipe supprimées ({_counted(unit.kind, len(rows))}) : durée de conservation échue."
    audit.record(session, programme_id=programme_id, at=at, actor=actor, action=audit.ERASED,
                 entity=table.__tablename__, entity_id=None, summary=summary, details={"lignes": rows})
    return counts


def anonymise_account(session: Session, member: StaffMember, counts: Counter[str]) -> dict[int, Replacement]:
    """Anonymise a disabled account (see the module's docstring) and return the replacements of
    the audit entries naming it, for `models.audit.redact_entries`: those it acted in or that are
    about it or its sessions (its name and address scrubbed), and any other whose texts give its
    address (the address only: someone else may bear the same name)."""
    email, needles = member.email, Needles()
    needles.add(member.name, email)
    sessions = list(session.exec(select(StaffSession.id).where(StaffSession.staff_id == member.id)).all())
    for table in (StaffRecoveryCode, StaffToken, StaffSession):
        session.exec(delete(table).where(col(table.staff_id) == member.id))
    session.exec(delete(StaffSignInFailure).where(col(StaffSignInFailure.email) == email))
    member.name, member.email = ERASED, f"compte-{member.id}@efface.invalid"  # RFC 2606: never delivered
    member.password_hash = member.totp_secret = None
    member.totp_last_step = None
    session.add(member)
    counts["comptes de l'équipe anonymisés"] += 1
    for notice in session.exec(select(Notice).where(Notice.recipient_email == email)):
        erase_notice(notice, needles)
        session.add(notice)
        counts["avis nommant ces personnes effacés"] += 1
    address = Needles()
    address.add(None, email)
    replacements: dict[int, Replacement] = {}
    for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.id))):
        ours = (entry.actor == f"equipe:{email}" or entry.entity == "staff_member" and entry.entity_id == member.id
                or entry.entity == "staff_session" and entry.entity_id in sessions)
        if ours or address.found(entry.actor) or address.found(entry.summary) or address.in_value(entry.details):
            replacements[entry.id or 0] = _expunged(entry, needles if ours else address)
    counts["entrées du journal expurgées"] += len(replacements)
    return replacements
