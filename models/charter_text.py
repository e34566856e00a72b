"""The words of a pilot's charter: drafted from the programme's definition until its first
signature, then frozen (`CharterText`: the text, its SHA-256, when), so that the three parties sign
one text whatever the definition becomes afterwards; the check that a signatory signs exactly the
text they read (its SHA-256); how a signature's link is named (never its token).

The signing deadline is not part of the signed text: it may move while the parties sign
(`models.charter.extend_charter`), so the pages and the certificate show it beside the text.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from sqlmodel import select

from models.context import ProgrammeContext
from models.errors import InvalidInput, Refused
from models.links import Bearer
from models.tables import CharterText, Pilot, PortalGrant
from models.text import visible

SHA256 = re.compile(r"[0-9a-f]{64}")


def draft_text(ctx: ProgrammeContext, pilot: Pilot) -> str:
    """The charter's text as the programme's definition words it today for `pilot` (what the first
    signature freezes). It names neither a calendar start date (the accompaniment starts at the last
    of the three signatures) nor the signing deadline (kept beside the text: it may be extended)."""
    definition = ctx.definition
    charter = definition.accompaniment.charter
    organiser = definition.organiser.name
    lines = [
        f"Charte « {charter.title} »",
        "",
        "Entre les trois parties :",
        f"- le territoire : {pilot.name} ;",
        f"- le {organiser} : {definition.organiser.full_name} ;",
        f"- le prestataire : {definition.consultancy.name} ;",
        f"dans le cadre du programme « {definition.title} ».",
        "",
        "1. Objet. Les trois parties s'engagent réciproquement à conduire ensemble l'accompagnement du "
        "territoire pilote ; l'implication active de chacune est la condition de réussite de la démarche.",
        "2. Durée. L'accompagnement commence à la date de la dernière des trois signatures, "
        "pour la durée prévue par le programme.",
        "3. Étapes : " + " ; ".join(phase.title for phase in definition.accompaniment.phases) + ".",
        "4. Le territoire mobilise ses élus, ses services et ses partenaires, participe aux sessions de "
        "formation et de co-production, et répond aux invitations.",
        "5. Le prestataire remet ses livrables aux échéances convenues ; toute nouvelle échéance est "
        "demandée avec un motif et décidée par le Cerdd.",
        "6. Le Cerdd anime le programme, organise les sessions, examine les livrables et rend compte de "
        "l'avancement.",
        f"7. Signature. Chaque partie signe la présente charte par une personne habilitée, avant la date "
        f"limite que fixe le {organiser} et qu'il peut prolonger ; cette date est indiquée avec le texte "
        "et n'en fait pas partie.",
    ]
    return "\n".join(lines) + "\n"


def sha256_of(text: str) -> str:
    """The SHA-256 of a text's UTF-8 bytes, 64 lower-case hexadecimal digits."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def frozen(ctx: ProgrammeContext, pilot: Pilot) -> CharterText | None:
    """The pilot's charter text as frozen by its first signature, or None before it."""
    return ctx.session.exec(select(CharterText).where(CharterText.pilot_id == pilot.id)).first()


def charter_text(ctx: ProgrammeContext, pilot: Pilot) -> str:
    """The text the parties read and sign: the frozen one once a party has signed, the draft
    (`draft_text`) before."""
    return charter_words(ctx, pilot, frozen(ctx, pilot))[0]


def charter_sha256(ctx: ProgrammeContext, pilot: Pilot) -> str:
    """The SHA-256 of `charter_text`: what a signature records and a signing form posts back."""
    return charter_words(ctx, pilot, frozen(ctx, pilot))[1]


def charter_words(ctx: ProgrammeContext, pilot: Pilot, kept: CharterText | None) -> tuple[str, str]:
    """(`charter_text`, `charter_sha256`) given the pilot's frozen text `kept` (`frozen`, read once)."""
    if kept is not None:
        return kept.text, kept.sha256
    text = draft_text(ctx, pilot)
    return text, sha256_of(text)


def freeze(ctx: ProgrammeContext, pilot: Pilot, at: datetime) -> CharterText:
    """The pilot's frozen text, frozen now (at `at`, in the current transaction) from the draft if
    no party has signed yet. Never changed afterwards."""
    kept = frozen(ctx, pilot)
    if kept is None:
        text = draft_text(ctx, pilot)
        kept = CharterText(pilot_id=pilot.id or 0, text=text, sha256=sha256_of(text), frozen_at=at)
        ctx.session.add(kept)
        ctx.session.flush()
    return kept


def check_read(ctx: ProgrammeContext, pilot: Pilot, read: str | None) -> str:
    """The SHA-256 of the text a signature signs, checked against `read`, the SHA-256 of the text the
    signatory read (None: not given, the command line without `--sha256`). InvalidInput when `read`
    is not 64 hexadecimal digits; Refused when it is another text's: nothing is signed then."""
    current = charter_sha256(ctx, pilot)
    if read is None:
        return current
    given = read.strip().lower()
    if not SHA256.fullmatch(given):
        raise InvalidInput(f"Empreinte SHA-256 illisible « {visible(read)[:70]} » : 64 chiffres hexadécimaux "
                           "attendus. Rien n'a été enregistré.")
    if given != current:
        raise Refused(f"Le texte de la charte a changé depuis que vous l'avez lu (empreinte lue {given[:12]}…, "
                      f"texte à signer {current[:12]}…) : relisez-le et signez de nouveau. Rien n'a été enregistré.")
    return current


def link_used(ctx: ProgrammeContext, bearer: Bearer) -> tuple[str, str]:
    """How a signature's personal link is named on the certificate: (its subject and version, its
    holder's address: empty for a link of the party as a whole); never the token."""
    grant = ctx.session.exec(select(PortalGrant).where(
        PortalGrant.programme_id == ctx.programme_id, PortalGrant.subject == bearer.subject,
        PortalGrant.person == (bearer.person or ""))).first()
    version = f", version {grant.version}" if grant is not None else ""
    return f"lien personnel {bearer.subject}{version}", bearer.person or ""
