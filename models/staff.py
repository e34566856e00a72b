"""The Cerdd's team on the back office (issue 23): accounts, roles, who may do what, and the
single-use links that set a password and a second factor.

A member is invited (`add_member`, `reinvite`): a link valid `INVITATION_LIFETIME`, used once,
opens a page that sets the password (argon2id, `password_problems`) and enrols the TOTP second
factor (RFC 6238, `pyotp`), then shows 10 single-use recovery codes (their SHA-256 stored). A
forgotten password is reset by a mailed link valid `RESET_LIFETIME` (`request_reset`,
`reset_password`), with the second factor still required. Who may do what is data: `PERMISSIONS`,
act → roles, read by `may` (the back office's `require(act)` and every future act).
A link's key is never stored: it is derived from its row under the portal's secret when the
notice leaves (`models.link_tokens.staff_key`), the row keeping its SHA-256.
Signing in and sessions are in `models.staff_sessions`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from enum import StrEnum

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from models import link_tokens
from models.addresses import deliverable_address
from models.context import ProgrammeContext
from models.db import lock_for_update
from models.errors import InvalidInput, NotFound, Refused, Verdict
from models.links import LinkExpired, LinkForbidden, LinkRevoked
from models.notices import NoticeKind, Recipient
from models.tables import StaffMember, StaffRecoveryCode, StaffRole, StaffSession, StaffToken, label
from models.text import require_line, visible
from models.wording import of_person

INVITATION_LIFETIME = timedelta(days=7)
RESET_LIFETIME = timedelta(hours=1)
RESET_INTERVAL = timedelta(minutes=15)
"""At most one reset link mailed per member in this time."""
MIN_PASSWORD, MAX_PASSWORD = 12, 256
"""Password length in characters (ANSSI's recommendation for a password with a second factor: 12;
the maximum keeps hashing bounded)."""
RECOVERY_CODES = 10
INVITATION, RESET = "invitation", "reinitialisation"
ISSUER = "Transitions (Cerdd)"
"""The issuer an authenticator app shows beside the account."""

ROLE_LABELS = {role: label(role) for role in StaffRole}


class StaffAct(StrEnum):
    """What a member of the team may do on the back office (each future route declares one)."""

    READ = "consulter"
    MANAGE_STAFF = "gerer_equipe"
    DECIDE_SELECTION = "decider_selection"
    WITHDRAW_PILOT = "retirer_pilote"
    EXTEND_CHARTER = "prolonger_charte"
    RUN_SESSIONS = "gerer_sessions"
    RECORD_ATTENDANCE = "saisir_presences"
    REVIEW_DELIVERABLES = "examiner_livrables"
    DECIDE_DUE_DATES = "decider_echeances"
    ISSUE_LINKS = "emettre_liens"
    RETRY_NOTICES = "relancer_avis"
    SEE_PROGRAMME_CHANGES = "voir_changements_programme"


ACT_LABELS = {
    StaffAct.READ: "consulter tout le programme",
    StaffAct.MANAGE_STAFF: "gérer les comptes de l'équipe",
    StaffAct.DECIDE_SELECTION: "décider de la sélection des pilotes",
    StaffAct.WITHDRAW_PILOT: "retirer un territoire pilote",
    StaffAct.EXTEND_CHARTER: "prolonger le délai de signature d'une charte",
    StaffAct.RUN_SESSIONS: "déplacer ou annuler une session",
    StaffAct.RECORD_ATTENDANCE: "saisir les présences",
    StaffAct.REVIEW_DELIVERABLES: "accepter ou renvoyer un livrable",
    StaffAct.DECIDE_DUE_DATES: "accorder ou refuser une nouvelle échéance",
    StaffAct.ISSUE_LINKS: "émettre et envoyer les liens personnels",
    StaffAct.RETRY_NOTICES: "relancer les avis",
    StaffAct.SEE_PROGRAMME_CHANGES: "voir les versions du programme et les changements prévisualisés",
}
"""Each act in French, as the home page lists what a role allows."""

_EVERYONE = frozenset(StaffRole)
_DIRECTION = frozenset({StaffRole.DIRECTION})
_TEAM = frozenset({StaffRole.DIRECTION, StaffRole.PROJECT_OFFICER})
PERMISSIONS: dict[StaffAct, frozenset[StaffRole]] = {
    StaffAct.READ: _EVERYONE,
    StaffAct.MANAGE_STAFF: _DIRECTION,
    StaffAct.DECIDE_SELECTION: _DIRECTION,
    StaffAct.WITHDRAW_PILOT: _DIRECTION,
    StaffAct.EXTEND_CHARTER: _TEAM,
    StaffAct.RUN_SESSIONS: _TEAM,
    StaffAct.RECORD_ATTENDANCE: _TEAM,
    StaffAct.REVIEW_DELIVERABLES: _TEAM,
    StaffAct.DECIDE_DUE_DATES: _TEAM,
    StaffAct.ISSUE_LINKS: _TEAM,
    StaffAct.RETRY_NOTICES: _TEAM,
    StaffAct.SEE_PROGRAMME_CHANGES: _TEAM,
}
"""Who may do what (issue 23, item 2): direction decides the selection, withdraws a pilot and
manages the team; a chargé·e de mission runs the year; lecture (the DREAL, the Region) reads the
programme as it runs, not the changes the team previews before deciding them (nor the settings'
versions beside them: `/equipe/programme`)."""


class StaffForbidden(LinkForbidden):
    """The member's role does not allow the act (403)."""


class StaffLinkUnknown(NotFound):
    """No invitation or reset link has this key (404)."""


class StaffLinkUsed(LinkRevoked):
    """The link was used already, or replaced by a newer one (410)."""


class StaffLinkExpired(LinkExpired):
    """The link's time is up (410)."""


def may(member: StaffMember, act: StaffAct) -> Verdict:
    """Whether `member` (active) may do `act`: `PERMISSIONS` (refused: StaffForbidden, in French)."""
    if not member.active:
        return Verdict("Ce compte est désactivé.", StaffForbidden)
    if StaffRole(member.role) not in PERMISSIONS[act]:
        return Verdict(f"Votre rôle ({ROLE_LABELS[StaffRole(member.role)]}) ne permet pas cette action : "
                       "rien n'a été fait.", StaffForbidden)
    return Verdict()


def read_role(text: str) -> StaffRole:
    """The role a person typed (InvalidInput listing the roles otherwise)."""
    try:
        return StaffRole(text.strip().lower())
    except ValueError:
        raise InvalidInput(f"Rôle inconnu « {visible(text)[:40]} » : direction, charge_de_mission ou "
                           "lecture.") from None


def digest(key: str) -> str:
    """The SHA-256 stored for a random key (a link's, a session's, a recovery code's)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


_HASHER = PasswordHasher()  # argon2id, RFC 9106's low-memory parameters
_DUMMY: list[str] = []


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored` (argon2id); without a stored hash, the same work is done
    against a dummy hash, so an unknown address answers as slowly as a wrong password."""
    if stored is None:
        if not _DUMMY:
            _DUMMY.append(_HASHER.hash(secrets.token_urlsafe(16)))
        stored = _DUMMY[0]
        password = password + "\0"  # never matches
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """The hash was made with other parameters than today's (rehashed at the next sign-in)."""
    return _HASHER.check_needs_rehash(stored)


def password_problems(password: str, confirm: str, member: StaffMember) -> list[str]:
    """What is wrong with a new password, in French (empty: accepted)."""
    problems = []
    if password != confirm:
        problems.append("Les deux mots de passe saisis diffèrent.")
    if len(password) < MIN_PASSWORD:
        problems.append(f"Le mot de passe doit compter au moins {MIN_PASSWORD} caractères.")
    if len(password) > MAX_PASSWORD:
        problems.append(f"Le mot de passe ne peut dépasser {MAX_PASSWORD} caractères.")
    lowered = password.lower()
    local = member.email.split("@")[0].lower()
    words = [w for w in [member.email.lower(), local, *member.name.lower().split()] if len(w) >= 4]
    if any(w in lowered for w in words):
        problems.append("Le mot de passe ne doit contenir ni votre adresse électronique ni votre nom.")
    if len(set(password)) < 5:
        problems.append("Le mot de passe répète trop peu de caractères différents.")
    return problems


def totp_step(member: StaffMember, code: str, at: datetime) -> int | None:
    """The time step (30 s) whose TOTP `code` matches at `at` (one step of drift either way), if
    it is newer than the last one accepted (a code is accepted once: replay refused)."""
    code = "".join(code.split())
    if member.totp_secret is None or len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(member.totp_secret)
    now = int(at.timestamp()) // totp.interval
    for step in (now - 1, now, now + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and step > (member.totp_last_step or -1):
            return step
    return None


def recovery_code(session: Session, member: StaffMember, code: str) -> StaffRecoveryCode | None:
    """The member's unused recovery code typed as `code` (spaces and hyphens ignored), if any."""
    wanted = digest("".join(c for c in code.lower() if c.isalnum()))
    rows = session.exec(select(StaffRecoveryCode).where(StaffRecoveryCode.staff_id == member.id,
                                                        col(StaffRecoveryCode.used_at).is_(None))).all()
    return next((row for row in rows if hmac.compare_digest(row.digest, wanted)), None)


def second_factor(session: Session, member: StaffMember, code: str, at: datetime) -> bool:
    """Check a TOTP code or a recovery code and spend it (the step recorded, the code used)."""
    step = totp_step(member, code, at)
    if step is not None:
        member.totp_last_step = step
        session.add(member)
        return True
    row = recovery_code(session, member, code)
    if row is None:
        return False
    row.used_at = at
    session.add(row)
    return True


def member_by_email(session: Session, email: str, *, lock: bool = False) -> StaffMember | None:
    """The member with this address (case and surrounding spaces aside), if any; `lock`: held until
    the transaction ends (`models.db.lock_for_update`), so that two sign-ins, enrolments or resets
    of one member take turns and a code is spent once."""
    query = select(StaffMember).where(StaffMember.email == email.strip().lower()[:320])
    if lock:
        query = lock_for_update(session, query).execution_options(populate_existing=True)
    return session.exec(query).first()


def find_member(session: Session, email: str) -> StaffMember:
    """The member with this address (NotFound otherwise)."""
    member = member_by_email(session, email)
    if member is None:
        raise NotFound(f"Aucun membre de l'équipe n'a l'adresse « {visible(email)[:80]} ».")
    return member


def members(session: Session) -> list[StaffMember]:
    """Every member, by address."""
    return list(session.exec(select(StaffMember).order_by(col(StaffMember.email))).all())


def add_member(ctx: ProgrammeContext, email: str, name: str, role: str, *, at: datetime, by: str,
               base_url: str, secret: str) -> StaffMember:
    """A new member, mailed an invitation (see `reinvite`: `base_url` and `secret` are the portal's);
    InvalidInput for a bad address, name or role, Refused when the address has an account already."""
    try:
        address = deliverable_address(email.strip()).lower()
    except ValueError as exc:
        raise InvalidInput(f"Adresse électronique refusée : {exc}.") from None
    member_name = require_line(name, "--name", max_length=120)
    chosen = read_role(role)
    if member_by_email(ctx.session, address) is not None:
        raise Refused(f"« {address} » a déjà un compte : « transitions staff invite » lui renvoie une invitation.")
    member = StaffMember(email=address, name=member_name, role=chosen, created_at=at)
    ctx.session.add(member)
    ctx.session.flush()
    ctx.audit(at, by, "equipe.compte_cree", "staff_member", member.id,
              f"Compte {of_person(member_name)} ({address}) créé, rôle {ROLE_LABELS[chosen]}.", role=chosen.value)
    reinvite(ctx, member, at=at, by=by, base_url=base_url, secret=secret)
    return member


def reinvite(ctx: ProgrammeContext, member: StaffMember, *, at: datetime, by: str, base_url: str,
             secret: str) -> None:
    """Mail `member` a new invitation (`invitation_equipe`) to the portal at `base_url`, its key
    derived under the portal's `secret`: password, second factor and recovery codes are set again
    from it; until then the account cannot sign in (every session revoked, every earlier link, a
    reset's too, spent)."""
    member.password_hash = None
    member.totp_secret = pyotp.random_base32()
    member.totp_last_step = None
    member.enrolled_at = None
    member.active = True
    member.disabled_at = None
    ctx.session.add(member)
    for code in ctx.session.exec(select(StaffRecoveryCode).where(StaffRecoveryCode.staff_id == member.id)).all():
        ctx.session.delete(code)
    revoke_sessions(ctx.session, member, at)
    _spend_links(ctx.session, member, at)  # a reset link mailed before would set a password meanwhile
    _mail_link(ctx, member, INVITATION, at, INVITATION_LIFETIME, base_url, secret)
    ctx.audit(at, by, "equipe.invitation", "staff_member", member.id,
              f"Invitation envoyée à {member.name} ({member.email}).")


def _spend_links(session: Session, member: StaffMember, at: datetime, purpose: str | None = None) -> None:
    """Every unused link of `member` (of `purpose` only, if given) stops working at `at`."""
    query = select(StaffToken).where(StaffToken.staff_id == member.id, col(StaffToken.used_at).is_(None))
    for row in session.exec(query if purpose is None else query.where(StaffToken.purpose == purpose)).all():
        row.used_at = at
        session.add(row)


def _mail_link(ctx: ProgrammeContext, member: StaffMember, purpose: str, at: datetime, lifetime: timedelta,
               base_url: str, secret: str) -> None:
    """Issue a single-use link (older unused ones of the same purpose stop working) and mail it.
    Its key is derived from the new row under the portal's `secret` (`link_tokens.staff_key`), the
    row keeping its SHA-256 only; the notice keeps no key: delivery derives it again."""
    _spend_links(ctx.session, member, at, purpose)
    row = StaffToken(staff_id=member_id(member), purpose=purpose, digest=secrets.token_hex(32), created_at=at,
                     expires_at=at + lifetime)  # a random stand-in until the row's number is known
    ctx.session.add(row)
    ctx.session.flush()
    kind = NoticeKind.STAFF_INVITATION if purpose == INVITATION else NoticeKind.STAFF_RESET
    assert row.id is not None
    ref = link_tokens.KeyRef(row.id, kind.value, row.expires_at)
    row.digest = digest(link_tokens.staff_key(secret, ref))
    ctx.session.add(row)
    path = link_tokens.STAFF_KEY_PATHS[kind.value]
    ctx.notify(kind, [Recipient(member.email, member.name)], key=f"{member.id}|{row.id}",
               context={"membre": member, "jusqu_au": row.expires_at,
                        "adresse": f"{base_url.rstrip('/')}/equipe/{path}/{link_tokens.KEY_PLACEHOLDER}"},
               at=at, key_ref=ref)


def link_member(session: Session, key: str, purpose: str, now: datetime) -> tuple[StaffMember, StaffToken]:
    """The member a single-use link names: StaffLinkUnknown, StaffLinkUsed (used, replaced, or the
    account disabled) or StaffLinkExpired otherwise."""
    row = session.exec(select(StaffToken).where(StaffToken.digest == digest(key[:200]),
                                                StaffToken.purpose == purpose)).first()
    if row is None:
        raise StaffLinkUnknown("Ce lien n'existe pas : vérifiez qu'il a été copié en entier.")
    member = session.exec(lock_for_update(session, select(StaffMember).where(StaffMember.id == row.staff_id))
                          .execution_options(populate_existing=True)).first()
    session.refresh(row)  # as it stands once the member is ours: a concurrent use of the link is seen
    if row.used_at is not None or member is None or not member.active:
        raise StaffLinkUsed("Ce lien a déjà servi ou a été remplacé : il ne fonctionne plus.")
    if now >= row.expires_at:
        raise StaffLinkExpired("Ce lien a expiré : demandez-en un nouveau.")
    return member, row


def enrol(ctx: ProgrammeContext, key: str, password: str, confirm: str, code: str, *, at: datetime) -> list[str]:
    """Answer an invitation: set the password, confirm the second factor with a code from the
    authenticator, spend the link; returns the recovery codes (shown once, stored hashed).
    InvalidInput listing every problem; the link refused as `link_member` says."""
    member, row = link_member(ctx.session, key, INVITATION, at)
    problems = password_problems(password, confirm, member)
    if totp_step(member, code, at) is None:
        problems.append("Le code à 6 chiffres de l'application d'authentification n'est pas bon : "
                        "vérifiez l'heure du téléphone et saisissez le code affiché.")
    if problems:
        raise InvalidInput("Votre compte n'est pas encore activé :", problems)
    member.password_hash = hash_password(password)
    member.totp_last_step = totp_step(member, code, at)
    member.enrolled_at = at
    row.used_at = at
    ctx.session.add_all([member, row])
    codes = [secrets.token_hex(10) for _ in range(RECOVERY_CODES)]  # 80 random bits each
    ctx.session.add_all(StaffRecoveryCode(staff_id=member_id(member), digest=digest(c)) for c in codes)
    ctx.audit(at, actor(member), "equipe.compte_active", "staff_member", member.id,
              f"{member.name} a choisi son mot de passe et activé la double authentification.")
    return ["-".join(c[i:i + 4] for i in range(0, len(c), 4)) for c in codes]


def otpauth_uri(member: StaffMember) -> str:
    """The URI an authenticator app reads (from a QR code) to enrol the member's second factor."""
    assert member.totp_secret is not None
    return pyotp.TOTP(member.totp_secret).provisioning_uri(name=member.email, issuer_name=ISSUER)


def request_reset(ctx: ProgrammeContext, email: str, *, at: datetime, base_url: str, secret: str) -> None:
    """Mail a reset link (to the portal at `base_url`, its key derived under the portal's `secret`)
    to an active, enrolled member with this address, at most once per `RESET_INTERVAL`; for any
    other address nothing happens (the page says the same either way)."""
    member = member_by_email(ctx.session, email)
    if member is None or not member.active or member.enrolled_at is None:
        return
    last = ctx.session.exec(select(StaffToken).where(StaffToken.staff_id == member.id, StaffToken.purpose == RESET)
                            .order_by(col(StaffToken.created_at).desc())).first()
    if last is not None and at - last.created_at < RESET_INTERVAL:
        return
    _mail_link(ctx, member, RESET, at, RESET_LIFETIME, base_url, secret)
    ctx.audit(at, actor(member), "equipe.reinitialisation_demandee", "staff_member", member.id,
              f"Lien de réinitialisation du mot de passe envoyé à {member.email}.")


def reset_password(ctx: ProgrammeContext, key: str, password: str, confirm: str, code: str, *, at: datetime) -> bool:
    """Set a new password from a reset link, the second factor required (a TOTP or recovery code);
    every session of the member is revoked. InvalidInput listing the password's problems (nothing
    changes, the link still works). A wrong code spends the link (audited): guessing codes costs a
    new link each time, at most one per `RESET_INTERVAL`. Returns whether the password changed."""
    member, row = link_member(ctx.session, key, RESET, at)
    problems = password_problems(password, confirm, member)
    if problems:
        raise InvalidInput("Le mot de passe n'a pas été changé :", problems)
    row.used_at = at
    ctx.session.add(row)
    if not second_factor(ctx.session, member, code, at):
        ctx.audit(at, "portail", "equipe.reinitialisation_refusee", "staff_member", member.id,
                  f"Réinitialisation du mot de passe de {member.email} refusée : code incorrect ; le lien est annulé.")
        return False
    member.password_hash = hash_password(password)
    ctx.session.add(member)
    revoke_sessions(ctx.session, member, at)
    ctx.audit(at, actor(member), "equipe.mot_de_passe_change", "staff_member", member.id,
              f"{member.name} a changé son mot de passe ; ses sessions ouvertes sont fermées.")
    return True


def revoke_sessions(session: Session, member: StaffMember, at: datetime) -> int:
    """Close every open session of `member`; returns how many."""
    rows = session.exec(select(StaffSession).where(StaffSession.staff_id == member.id,
                                                   col(StaffSession.revoked_at).is_(None))).all()
    for row in rows:
        row.revoked_at = at
        session.add(row)
    return len(rows)


def disable(ctx: ProgrammeContext, email: str, *, at: datetime, by: str) -> int:
    """Disable an account: it can no longer sign in, its sessions and unused links stop working at
    once. Returns how many sessions were closed."""
    member = find_member(ctx.session, email)
    member.active = False
    member.disabled_at = at
    ctx.session.add(member)
    _spend_links(ctx.session, member, at)
    closed = revoke_sessions(ctx.session, member, at)
    ctx.audit(at, by, "equipe.compte_desactive", "staff_member", member.id,
              f"Compte {of_person(member.name)} ({member.email}) désactivé ; {closed} session(s) fermée(s).")
    return closed


def change_role(ctx: ProgrammeContext, email: str, role: str, *, at: datetime, by: str) -> bool:
    """Give a member another role (audited with the one it replaced); False when unchanged."""
    member = find_member(ctx.session, email)
    chosen = read_role(role)
    before = member.role
    if before == chosen:
        return False
    member.role = chosen
    ctx.session.add(member)
    ctx.audit(at, by, "equipe.role", "staff_member", member.id,
              f"Rôle de {member.name} : {ROLE_LABELS[StaffRole(before)]} → {ROLE_LABELS[chosen]}.",
              avant=before, role=chosen.value)
    return True


def member_id(member: StaffMember) -> int:
    assert member.id is not None  # a stored member
    return member.id


def actor(member: StaffMember) -> str:
    """Who did an act, for the audit log."""
    return f"equipe:{member.email}"


def actor_label(recorded: str) -> str:
    """An audit entry's actor as a page shows it: « equipe:anne@… » → « anne@… », « cli:root » →
    « root (ligne de commande) », « cli » (a command run by a user without a name) → « ligne de
    commande »; anything else as recorded."""
    if recorded.startswith("equipe:"):
        return recorded.removeprefix("equipe:")
    if recorded == "cli":
        return "ligne de commande"
    if recorded.startswith("cli:"):
        return f"{recorded.removeprefix('cli:')} (ligne de commande)"
    return recorded
