"""Applications written online by their lead: a draft per lead and programme, reached by personal
links mailed to the addresses on file for it (never shown on a page), saved at any time, checked
on demand, its files attached, and deposited with `applications.submit`, the function file intake
calls (the call: « en nous renvoyant le formulaire de candidature en annexe »; issue 22).

A draft's `payload` has the shape of `models.forms.ApplicationForm` without its attachment lists,
as people typed it: only sizes are bounded on save; `verify` checks it with the form's model and
the attachments' rules, every problem at once. Times: `at` is the programme's instant (deadline,
audit), `now` the real time (rate limits, like personal links).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import PurePosixPath
from typing import Any

from pydantic import EmailStr, TypeAdapter, ValidationError
from sqlmodel import col, select

from models.applications import Receipt, submit
from models.attachments import MEDIA_TYPES, WORD_PROCESSOR, Piece, check_pieces, check_upload
from models.clock import format_paris
from models.context import ProgrammeContext
from models.db import lock_row
from models.errors import ALLOWED, InvalidInput, NotFound, Refused, Verdict
from models.forms import MAX_ROWS, MAX_SHORT, MAX_TEXT, ApplicationForm, Attachment, Theme, check_siren, form_of
from models.links import APPLICANT, Bearer
from models.notices import NoticeKind, Recipient
from models.recipients import applicants
from models.register import Epci
from models.tables import (
    Application,
    ApplicationDraft,
    ApplicationFile,
    ApplicationStatus,
    ApplicationVersion,
    DraftFile,
    Programme,
)
from models.text import single_line, visible

START_INTERVAL = timedelta(minutes=15)
"""At most one link mailed per lead in this time (real time), whoever asks: a stranger typing a
lead's SIREN again and again sends its holders one message, not a flood."""
EMPTY_ROWS = 2
"""Empty rows the page offers below a list's filled ones (« ajouter une ligne » by saving)."""
MAX_FILES = 12
MAX_HOLDERS = 20

PEOPLE = ("responsables_operationnels", "referents_politiques", "referents_techniques")
PERSON_FIELDS = ("nom", "qualite", "courriel", "telephone")
PARTNER_FIELDS = ("nom", "type", "siren")
LEAD_FIELDS = ("nom", "adresse", "courriel", "telephone")
LONG_TEXTS = ("motivations", "pistes_de_travail", "partenaires_potentiels", "besoins")
SHORT_TEXTS = ("point_contact_cerdd",)
ROLES = {"formulaire": ({"pdf"} | WORD_PROCESSOR), "complementaire": set(MEDIA_TYPES)}
"""What each kind of file may be, by content: the form itself (PDF or a word processor's), or a
complementary document."""

_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)


class Started(StrEnum):
    """What « Commencer » did: a new draft's link mailed to the address typed, or an existing
    draft's link mailed again to the addresses on file (or not, within `START_INTERVAL`)."""

    NEW = "nouveau"
    EXISTING = "existant"


def applicant_bearer(siren: str, person: str = "") -> Bearer:
    """The bearer of a draft's link: the lead `siren`, held by `person` (an address on file)."""
    return Bearer(APPLICANT, siren=siren, person=person)


START_BEARER = applicant_bearer("")
"""Whom the « Commencer » form's one-time token is made for: anyone, before any link exists."""


def admissible_lead(ctx: ProgrammeContext, typed: str) -> Epci:
    """The EPCI of the register whose SIREN was typed, or the call's refusal: InvalidInput for a
    malformed SIREN (`check_siren`), Refused naming what the register says (a commune and its EPCI,
    an EPCI of another département, a SIREN it does not know) with the call's rule."""
    try:
        siren = check_siren(typed)
    except ValueError as exc:
        message = str(exc)
        raise InvalidInput(f"{message[:1].upper()}{message[1:]}.") from None
    epci = ctx.register.epci(siren)
    if epci is not None:
        return epci
    rule = ctx.definition.call.inadmissible_reason
    departements = ", ".join(ctx.definition.call.territory.departements)
    commune = ctx.register.commune(siren) or ctx.whole_register.commune(siren)
    other = ctx.whole_register.epci(siren)
    if commune is not None:
        why = (f"le SIREN {siren} est celui de la commune {commune[0].name}, membre de {commune[1].name} "
               f"(SIREN {commune[1].siren}) : une commune seule ne peut pas être chef de file, l'EPCI le peut")
    elif other is not None:
        why = (f"le SIREN {siren} est celui de {other.name}, un EPCI hors des départements de l'appel "
               f"({departements})")
    else:
        why = f"le SIREN {siren} n'est celui d'aucun EPCI des départements {departements} au registre"
    raise Refused(f"Candidature impossible : {why}. {rule}")


def find_draft(ctx: ProgrammeContext, siren: str) -> ApplicationDraft:
    """The draft of the lead `siren` (NotFound when there is none)."""
    draft = ctx.session.exec(select(ApplicationDraft).where(ApplicationDraft.programme_id == ctx.programme_id,
                                                            ApplicationDraft.lead_siren == siren)).first()
    if draft is None:
        raise NotFound("Aucune candidature en ligne n'est ouverte pour ce SIREN.")
    return draft


def may_edit(ctx: ProgrammeContext, draft: ApplicationDraft, at: datetime) -> Verdict:
    """Whether the draft may still change (saved, its files, deposited) at `at`: before the call's
    deadline (12:00:00 Paris time is late), while the call is open and its application not withdrawn."""
    call = ctx.definition.call
    if at < call.launch:
        return Verdict(f"L'appel à candidature n'est pas encore ouvert : il ouvre le {format_paris(call.launch)}.")
    if at >= call.deadline:
        return Verdict(f"La date limite de l'appel était le {format_paris(call.deadline)} (heure de Paris) : "
                       "cette candidature ne peut plus être modifiée ni déposée.")
    application = _application(ctx, draft)
    if application is not None and application.status == ApplicationStatus.WITHDRAWN:
        return Verdict("Cette candidature a été retirée : elle ne peut plus être modifiée ni déposée.")
    return ALLOWED


def start(ctx: ProgrammeContext, *, siren: str, email: str, at: datetime, now: datetime) -> Started:
    """« Commencer »: the lead checked (`admissible_lead`), then its draft's link mailed (notice
    `lien_candidature`, leaves at once): a new draft's to `email`; an existing one's to the addresses
    on file, never to `email` (a stranger must not reach another lead's draft); when the lead has
    applied already, the draft starts from its current version and its contacts hold it. At most
    one mail per lead every `START_INTERVAL` (`now`, real time). Refused once the call is closed."""
    epci = admissible_lead(ctx, siren)
    try:
        address = _EMAIL.validate_python(email.strip()).lower()
    except ValidationError:
        raise InvalidInput(f"« {visible(email)[:80]} » n'est pas une adresse électronique valide.") from None
    # The programme's lock: two starts at once for one lead take turns, the second finds the first's draft.
    lock_row(ctx.session, Programme.id, ctx.programme_id)
    try:
        draft = find_draft(ctx, epci.siren)
        outcome = Started.EXISTING
    except NotFound:
        draft = _new_draft(ctx, epci, address, at)
        outcome = Started.NEW
    may_edit(ctx, draft, at).enforce()
    if draft.requested_at is not None and now - draft.requested_at < START_INTERVAL:
        return outcome  # nothing written: the page says the same
    draft.requested_at = now
    ctx.session.add(draft)
    application = _application(ctx, draft)
    ctx.notify(NoticeKind.DRAFT_LINK, [Recipient(holder, holder) for holder in draft.holders],
               key=f"{draft.lead_siren}|{int(now.timestamp())}",
               context={"porteur": applicant_bearer(draft.lead_siren), "chef_de_file": draft.lead_name,
                        "appel": ctx.definition.call, "candidature": application}, at=at)
    ctx.audit(at, "portail", "candidature.lien", "application_draft", draft.id,
              f"Lien de la candidature en ligne de {draft.lead_name} envoyé aux adresses enregistrées "
              f"({len(draft.holders)}).", siren=draft.lead_siren, nouveau=outcome == Started.NEW)
    return outcome


def _new_draft(ctx: ProgrammeContext, epci: Epci, address: str, at: datetime) -> ApplicationDraft:
    application = ctx.session.exec(select(Application).where(Application.programme_id == ctx.programme_id,
                                                             Application.lead_siren == epci.siren)).first()
    payload: dict[str, Any] = {"collectivite_chef_de_file": {"nom": epci.name, "type": "epci", "siren": epci.siren}}
    holders = [address]
    if application is not None:
        form = form_of(ctx.session, application)
        payload = form.model_dump(mode="json", exclude={"formulaire", "documents_complementaires"})
        holders = list(dict.fromkeys(r.email.lower() for r in applicants(form)))
    draft = ApplicationDraft(programme_id=ctx.programme_id, lead_siren=epci.siren, lead_name=epci.name,
                             payload=payload, holders=holders[:MAX_HOLDERS], created_at=at, updated_at=at,
                             application_id=application.id if application is not None else None)
    ctx.session.add(draft)
    ctx.session.flush()
    if application is not None:
        _copy_files(ctx, draft, application, at)
    ctx.audit(at, "portail", "candidature.brouillon", "application_draft", draft.id,
              f"Candidature en ligne ouverte pour {epci.name} (SIREN {epci.siren}).", siren=epci.siren)
    return draft


def _copy_files(ctx: ProgrammeContext, draft: ApplicationDraft, application: Application, at: datetime) -> None:
    version = ctx.session.exec(select(ApplicationVersion).where(
        ApplicationVersion.application_id == application.id, ApplicationVersion.version == application.version)).one()
    # A file keeps the name and description the version's form gives it (`pieces/formulaire.pdf`),
    # so a deposit of the draft unchanged is that very version.
    named = {PurePosixPath(str(item.get("fichier", ""))).name: item
             for field in ("formulaire", "documents_complementaires")
             for item in version.payload.get(field, []) if isinstance(item, dict)}
    for row in ctx.session.exec(select(ApplicationFile).where(ApplicationFile.version_id == version.id)).all():
        item = named.get(PurePosixPath(row.filename).name, {})
        ctx.session.add(DraftFile(draft_id=draft.id or 0, role=row.role,
                                  filename=str(item.get("fichier") or row.filename), media_type=row.media_type,
                                  size=row.size, sha256=row.sha256, added_at=at, content=row.content,
                                  description=str(item.get("description") or "")))


def _application(ctx: ProgrammeContext, draft: ApplicationDraft) -> Application | None:
    return ctx.session.get(Application, draft.application_id) if draft.application_id else None


def application_of(ctx: ProgrammeContext, draft: ApplicationDraft) -> Application | None:
    """The application the draft's deposits became, if any."""
    return _application(ctx, draft)


# --- The form as typed -------------------------------------------------------------------------------

def payload_from_fields(fields: Mapping[str, str], themes: list[str], siren: str, lead_name: str) -> dict[str, Any]:
    """The draft's payload from the page's fields (`chef-nom`, `responsables_operationnels-0-courriel`,
    `partenaires-1-type`, `partenaires-1-contact-courriel`, `motivations`…; `themes`: the boxes
    ticked): every field of the form but the attachments (their descriptions are the files'), empty
    rows dropped, nothing checked but sizes (InvalidInput naming the field when one is too long or a list too long)."""

    def value(name: str, limit: int = MAX_SHORT) -> str:
        text = fields.get(name, "")
        if len(text) > limit:
            raise InvalidInput(f"Le champ « {name} » dépasse {limit} caractères. Rien n'a été enregistré.")
        return text.strip()

    lead = {"type": "epci", "siren": siren, **{f: value(f"chef-{f}") for f in LEAD_FIELDS}}
    lead["nom"] = lead["nom"] or lead_name
    payload: dict[str, Any] = {"collectivite_chef_de_file": _filled(lead)}
    for name, names in [*((p, PERSON_FIELDS) for p in PEOPLE), ("partenaires", PARTNER_FIELDS)]:
        rows: list[dict[str, Any]] = []
        for i in range(MAX_ROWS + EMPTY_ROWS):
            row: dict[str, Any] = _filled({f: value(f"{name}-{i}-{f}") for f in names})
            if name == "partenaires":  # the partner's contact, a record of its own in the form
                contact = _filled({f: value(f"{name}-{i}-contact-{f}") for f in PERSON_FIELDS})
                if contact:
                    row["contact"] = contact
            rows.append(row)
        kept = [row for row in rows if set(row) - {"type"}]
        if len(kept) > MAX_ROWS:
            raise InvalidInput(f"La liste « {name} » compte plus de {MAX_ROWS} lignes. Rien n'a été enregistré.")
        payload[name] = kept
    for name in SHORT_TEXTS:
        payload[name] = value(name)
    for name in LONG_TEXTS:
        payload[name] = value(name, MAX_TEXT)
    payload["themes"] = [t for t in dict.fromkeys(themes) if t in set(Theme)][:len(Theme)]
    return {k: v for k, v in payload.items() if v not in ("", None)}


def _filled(row: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in row.items() if v}


def rows(draft: ApplicationDraft, name: str) -> list[dict[str, Any]]:
    """A list's rows as saved, then `EMPTY_ROWS` empty ones (within `MAX_ROWS`), for the page."""
    saved = [row for row in draft.payload.get(name, []) if isinstance(row, dict)][:MAX_ROWS]
    return saved + [{}] * max(0, min(EMPTY_ROWS, MAX_ROWS - len(saved)))


def save(ctx: ProgrammeContext, draft: ApplicationDraft, payload: dict[str, Any], *, at: datetime, by: str) -> None:
    """« Enregistrer »: the payload kept as typed (see `payload_from_fields`), at any time before the
    deadline (`may_edit`); audited."""
    may_edit(ctx, draft, at).enforce()
    draft.payload = payload
    draft.updated_at = at
    ctx.session.add(draft)
    ctx.audit(at, by, "candidature.brouillon_enregistre", "application_draft", draft.id,
              f"Candidature en ligne de {draft.lead_name} enregistrée.", siren=draft.lead_siren)


# --- Files -------------------------------------------------------------------------------------------

def files(ctx: ProgrammeContext, draft: ApplicationDraft) -> list[DraftFile]:
    return list(ctx.session.exec(select(DraftFile).where(DraftFile.draft_id == draft.id)
                                 .order_by(col(DraftFile.id))).all())


def add_file(ctx: ProgrammeContext, draft: ApplicationDraft, *, role: str, filename: str, data: bytes,
             at: datetime, by: str, description: str = "") -> DraftFile:
    """Attach a file (`role`: formulaire or complementaire), checked by the attachments' rules
    (size, type by content agreeing with its name, zip bombs: `check_upload`), with what it is
    (`description`, one line of at most `MAX_SHORT` characters, optional); the same name twice
    replaces nothing (refused), at most `MAX_FILES`."""
    may_edit(ctx, draft, at).enforce()
    try:
        description = single_line(description.strip())
    except ValueError as exc:
        raise InvalidInput(f"Description de la pièce : {exc}. Rien n'a été enregistré.") from None
    if len(description) > MAX_SHORT:
        raise InvalidInput(f"La description de la pièce dépasse {MAX_SHORT} caractères. Rien n'a été enregistré.")
    if role not in ROLES:
        raise InvalidInput("Choisissez le genre de pièce : le formulaire ou un document complémentaire.")
    piece = check_upload(filename, data, allowed=frozenset(ROLES[role]), field="pièce jointe")
    present = files(ctx, draft)
    if len(present) >= MAX_FILES:
        raise Refused(f"Une candidature compte au plus {MAX_FILES} pièces : retirez-en une d'abord.")
    if any(f.filename == piece.filename for f in present):
        raise Refused(f"Une pièce s'appelle déjà « {piece.filename} » : retirez-la d'abord, ou renommez le fichier.")
    row = DraftFile(draft_id=draft.id or 0, role=role, filename=piece.filename, media_type=piece.media_type,
                    size=piece.size, sha256=piece.sha256, added_at=at, content=piece.content,
                    description=description)
    ctx.session.add(row)
    ctx.session.flush()
    ctx.audit(at, by, "candidature.piece_jointe", "application_draft", draft.id,
              f"Pièce {piece.describe()} jointe à la candidature en ligne de {draft.lead_name} "
              f"(SHA-256 {piece.sha256}).", fichier=piece.filename, sha256=piece.sha256)
    return row


def remove_file(ctx: ProgrammeContext, draft: ApplicationDraft, file_id: int, *, at: datetime, by: str) -> None:
    """Remove one of the draft's files (NotFound when it is not one of them)."""
    may_edit(ctx, draft, at).enforce()
    row = ctx.session.get(DraftFile, file_id)
    if row is None or row.draft_id != draft.id:
        raise NotFound("Cette pièce ne fait pas partie de cette candidature.")
    ctx.session.delete(row)
    ctx.audit(at, by, "candidature.piece_retiree", "application_draft", draft.id,
              f"Pièce {row.filename} retirée de la candidature en ligne de {draft.lead_name}.", fichier=row.filename)


# --- Verify and deposit ------------------------------------------------------------------------------

Explain = Callable[[ValidationError], list[str]]
"""Turns the form model's errors into French lines (`chemin : message`), injected by the caller."""


@dataclass(frozen=True)
class Verification:
    """What « Vérifier » found: the form when valid, and every problem (French lines, the form's
    first, then the attachments'); `sections` the keys of the sections with a problem."""

    form: ApplicationForm | None
    pieces: list[Piece]
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(ctx: ProgrammeContext, draft: ApplicationDraft, explain: Explain) -> Verification:
    """The draft checked as a deposit would be: the form's model (`ApplicationForm`, the same as
    file intake) and the attachments' rules (`check_pieces`), every problem at once, each as
    (section key, French line)."""
    present = files(ctx, draft)
    payload = {**draft.payload,
               "formulaire": [_attachment(f) for f in present if f.role == "formulaire"],
               "documents_complementaires": [_attachment(f) for f in present if f.role != "formulaire"]}
    problems: list[tuple[str, str]] = []
    form: ApplicationForm | None = None
    try:
        form = ApplicationForm.model_validate(payload)
    except ValidationError as exc:
        lines = explain(exc)
        keys = [str(e["loc"][0]) if e["loc"] else "formulaire" for e in exc.errors(include_url=False)]
        problems = list(zip(keys, lines, strict=False))
    attached = form or ApplicationForm.model_construct(  # the files checked even when the form is not valid
        formulaire=[Attachment(fichier=f.filename) for f in present if f.role == "formulaire"],
        documents_complementaires=[Attachment(fichier=f.filename) for f in present if f.role != "formulaire"])
    try:
        pieces = check_pieces(attached, {f.filename: f.content for f in present})
    except InvalidInput as exc:
        return Verification(None, [], problems + [("formulaire", line) for line in exc.details])
    return Verification(form, pieces if form else [], problems)


def _attachment(row: DraftFile) -> dict[str, str]:
    return {"fichier": row.filename, **({"description": row.description} if row.description else {})}


def deposit(ctx: ProgrammeContext, draft: ApplicationDraft, explain: Explain, *, at: datetime,
            by: str) -> tuple[Receipt, bool]:
    """« Déposer »: the draft verified (InvalidInput listing every problem), then submitted with
    `applications.submit` (a new application, or a new version under the same receipt before the
    deadline; its acknowledgement lists each file with its SHA-256). Returns the receipt and whether
    a version was recorded: the same content deposited again (two tabs, two clicks at once) records
    nothing more (the programme's row is locked first, so the second waits and finds the first)."""
    lock_row(ctx.session, Programme.id, ctx.programme_id)
    # Read again once the lock is held: a deposit from another tab may have committed while this one
    # waited (PostgreSQL reads what is committed by then; the draft was loaded before the lock).
    ctx.session.refresh(draft)
    known = _application(ctx, draft)
    if known is not None:
        ctx.session.refresh(known)
    may_edit(ctx, draft, at).enforce()
    checked = verify(ctx, draft, explain)
    if checked.form is None or not checked.ok:
        raise InvalidInput(f"La candidature n'est pas prête à être déposée : {len(checked.problems)} problème(s).",
                           [line for _, line in checked.problems])
    if known is not None and _same_as_deposited(ctx, known, checked):
        return Receipt(known.receipt_number, known.version, known.lead_name, list(known.warnings)), False
    receipt = submit(ctx, checked.form, checked.pieces, at=at, submitted_by=by)
    application = ctx.session.exec(select(Application).where(
        Application.receipt_number == receipt.receipt_number)).one()
    draft.application_id = application.id
    draft.holders = list(dict.fromkeys([*draft.holders, *(r.email.lower() for r in applicants(checked.form))]))
    draft.holders = draft.holders[:MAX_HOLDERS]
    ctx.session.add(draft)
    return receipt, True


def _same_as_deposited(ctx: ProgrammeContext, application: Application, checked: Verification) -> bool:
    """The current version holds this very form and these very files."""
    version = ctx.session.exec(select(ApplicationVersion).where(
        ApplicationVersion.application_id == application.id, ApplicationVersion.version == application.version)).one()
    stored = ctx.session.exec(select(ApplicationFile.filename, ApplicationFile.sha256).where(
        ApplicationFile.version_id == version.id)).all()
    assert checked.form is not None
    return (version.payload == checked.form.model_dump(mode="json")
            and sorted(stored) == sorted((p.filename, p.sha256) for p in checked.pieces))
