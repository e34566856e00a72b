"""What the pilots' screens share: the pilot a page's address names, its charter as one party sees
it, and the banner of every page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from models import charter as rules
from models.charter import Channel, party_label, sign_by, signatures
from models.charter_text import charter_words, frozen
from models.context import ProgrammeContext
from models.errors import NotFound
from models.pilots import Withdrawal, pilot_named, withdrawal_of
from models.read.pilot_year import PilotYear
from models.tables import Application, CharterSignature, Pilot, PilotStatus, ProgrammeMode


@dataclass(frozen=True)
class Banner:
    """The top of every page: the programme's title and, for a replayed programme, its present."""

    programme_title: str
    replayed_at: datetime | None


@dataclass(frozen=True)
class CharterView:
    """A pilot's charter as one party sees it: the text (frozen at the first signature), who signed
    it, whether this party may sign on the portal, and whether its deadline has passed."""

    title: str
    text: str
    sha256: str
    frozen_at: datetime | None
    """When the first signature froze the text (None: nobody has signed yet)."""
    sign_by: datetime
    late: bool
    """The signing deadline has passed while this party has not signed (the portal no longer signs)."""
    signatures: tuple[tuple[str, str, CharterSignature | None], ...]
    """(party, « du territoire »…, its signature if any) for each party of the charter."""
    party: str
    party_label: str
    may_sign: bool
    withdrawal: Withdrawal | None
    form: str
    """The name of the signing form (its one-time token is the portal's)."""


def banner(ctx: ProgrammeContext) -> Banner:
    """The banner of a page on this programme."""
    replayed = ctx.programme.mode == ProgrammeMode.REPLAY
    return Banner(ctx.programme.title, ctx.programme.last_tick_at if replayed else None)


def siren_of(ctx: ProgrammeContext, pilot: Pilot) -> str:
    """The SIREN of the pilot's lead, which its pages' addresses carry."""
    application = ctx.session.get(Application, pilot.application_id)
    assert application is not None
    return application.lead_siren


def pilot_of(ctx: ProgrammeContext, siren: str) -> Pilot:
    """The pilot a page's address names by its SIREN; NotFound otherwise."""
    found = pilot_named(ctx, siren, siren_only=True)
    if found is None:
        raise NotFound("Aucun territoire pilote ne correspond à cette adresse.")
    return found


def charter_view(ctx: ProgrammeContext, pilot: Pilot, party: str, now: datetime,
                 year: PilotYear | None = None) -> CharterView:
    """The pilot's charter as `party` sees it at `now` (from the pilot's `year` when read already:
    `models.read.pilot_year`)."""
    signed = year.signatures if year is not None else signatures(ctx, pilot)
    charter = ctx.definition.accompaniment.charter
    parties = charter.parties
    kept, deadline = year.charter_text if year is not None else frozen(ctx, pilot), sign_by(ctx, pilot)
    text, sha256 = charter_words(ctx, pilot, kept)
    return CharterView(
        title=charter.title, text=text, sha256=sha256,
        frozen_at=kept.frozen_at if kept is not None else None, sign_by=deadline,
        late=party not in signed and pilot.status == PilotStatus.CHARTER_PENDING and now >= deadline,
        signatures=tuple((p, party_label(p), signed.get(p)) for p in parties),
        party=party, party_label=party_label(party),
        may_sign=party not in signed and bool(rules.may_sign(ctx, pilot, party, now, Channel.PORTAL)),
        withdrawal=withdrawal_of(ctx, pilot, now), form=f"charte:{pilot.id}:{party}")
