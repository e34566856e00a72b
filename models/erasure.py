"""How personal data is erased where it was copied (RGPD art. 5-1-e, 17): the strings that name
people (`Needles`: addresses, names, phones), found and replaced in free texts and JSON values, an
application's form anonymised in a shape that still validates (counts, themes and statuses stay),
and the traces a person leaves beyond their own rows: notices (body erased, recipient too when
it is them), personal links, and audit entries, changed only through `models.audit.redact_entries`.
Used by the purge (`models.purge`) and a person's erasure (`models.rights`)."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, delete, select

from models.tables import AuditEntry, Notice, NoticeStatus, PortalFormUse, PortalGrant

ERASED = "[effacé]"
"""What replaces a name, an address or a phone in a text."""
ERASED_BODY = "Contenu effacé (RGPD : durée de conservation échue ou demande d'effacement)."
"""A notice's body once erased: also the mark `sweep_outbox` and the purge read."""
PLACEHOLDER_NAME = "Personne effacée"
PLACEHOLDER_EMAIL = "personne.effacee@example.org"
"""An address in a reserved domain (RFC 2606): a form keeps validating, nothing can be sent there."""
PLACEHOLDER_PHONE = "01 00 00 00 00"
FREE_TEXTS = ("motivations", "pistes_de_travail", "partenaires_potentiels", "besoins", "point_contact_cerdd")


@dataclass
class Needles:
    """The strings naming some people: e-mail addresses (lower case), names, phones."""

    emails: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)

    def add(self, name: object = None, email: object = None, phone: object = None) -> None:
        if isinstance(email, str) and "@" in email:
            self.emails.add(email.strip().lower())
        if isinstance(name, str) and len(name.strip()) > 2 and name.strip() not in (ERASED, PLACEHOLDER_NAME):
            self.names.add(name.strip())
        if isinstance(phone, str) and sum(c.isdigit() for c in phone) >= 8 and phone != PLACEHOLDER_PHONE:
            self.phones.add(phone.strip())

    def without(self, other: Needles) -> Needles:
        """These needles but those of `other` (people whose data is kept)."""
        lowered = {n.casefold() for n in other.names}
        return Needles(self.emails - other.emails, {n for n in self.names if n.casefold() not in lowered},
                       self.phones - other.phones)

    def __bool__(self) -> bool:
        return bool(self.emails or self.names or self.phones)

    def _pattern(self) -> re.Pattern[str] | None:
        words = [re.escape(e) for e in self.emails] + [re.escape(n) for n in self.names]
        words += [r"[\s.]?".join(re.escape(d) for d in re.sub(r"\D", "", p)) for p in self.phones]
        if not words:
            return None
        return re.compile("|".join(sorted(words, key=len, reverse=True)), re.IGNORECASE)

    def found(self, text: str | None) -> bool:
        pattern = self._pattern()
        return bool(text) and pattern is not None and pattern.search(text or "") is not None

    def scrub(self, text: str) -> str:
        pattern = self._pattern()
        return text if pattern is None or not text else pattern.sub(ERASED, text)

    def scrub_value(self, value: Any) -> Any:
        """A JSON value with every string (keys included) scrubbed."""
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, list):
            return [self.scrub_value(item) for item in value]
        if isinstance(value, dict):
            return {self.scrub(str(k)): self.scrub_value(v) for k, v in value.items()}
        return value

    def in_value(self, value: Any) -> bool:
        return self.found(json.dumps(value, ensure_ascii=False, default=str))


def people_of_payload(payload: dict[str, Any], needles: Needles) -> None:
    """Add every person a form (or draft) names to `needles`: the lead's address and phone, the
    representatives and the partners' contacts."""
    lead = payload.get("collectivite_chef_de_file")
    if isinstance(lead, dict):
        needles.add(None, lead.get("courriel"), lead.get("telephone"))
    for person in _representatives(payload):
        needles.add(person.get("nom"), person.get("courriel"), person.get("telephone"))


def _representatives(payload: dict[str, Any]) -> list[dict[str, Any]]:
    found = []
    for key in ("responsables_operationnels", "referents_politiques", "referents_techniques"):
        found += [p for p in payload.get(key) or [] if isinstance(p, dict)]
    found += [p["contact"] for p in payload.get("partenaires") or []
              if isinstance(p, dict) and isinstance(p.get("contact"), dict)]
    return found


def anonymise_payload(payload: dict[str, Any], only: Needles | None = None) -> dict[str, Any]:
    """The form with people replaced by placeholders that still validate: every person and free
    text (`only` None, a purge), or only the people `only` names, its texts scrubbed (an erasure)."""
    data = json.loads(json.dumps(payload))
    for person in _representatives(data):
        if only is None or only.in_value(person):
            person.update(nom=PLACEHOLDER_NAME, qualite=ERASED, courriel=PLACEHOLDER_EMAIL)
            if person.get("telephone"):
                person["telephone"] = PLACEHOLDER_PHONE
    lead = data.get("collectivite_chef_de_file")
    if isinstance(lead, dict) and (only is None or only.in_value(lead)):
        lead.update(courriel=PLACEHOLDER_EMAIL, telephone=PLACEHOLDER_PHONE)
    for key in FREE_TEXTS:
        if isinstance(data.get(key), str):
            data[key] = ERASED if only is None else only.scrub(data[key])
    for key in ("formulaire", "documents_complementaires"):
        for number, item in enumerate(data.get(key) or [], start=1):
            if isinstance(item, dict) and only is None:
                item.update(fichier=f"fichier-efface-{number}", description="")
    return data


def erase_notice(notice: Notice, needles: Needles) -> None:
    """Erase a notice's body; its recipient too when `needles` names them (its kind, dates and
    state stay: the figures count them)."""
    notice.body_text, notice.body_html, notice.core_text = ERASED_BODY, "", ""
    notice.calendar = notice.last_error = notice.link_subject = notice.link_person = None
    notice.link_version = notice.link_expires = None
    notice.subject = needles.scrub(notice.subject)
    if notice.recipient_email.lower() in needles.emails:
        stand_in = f"efface-{notice.id}"
        notice.dedup_key = notice.dedup_key.replace(notice.recipient_email.lower(), stand_in)
        notice.recipient_email, notice.recipient_name = stand_in, ERASED
        if notice.status == NoticeStatus.PENDING:
            notice.status = NoticeStatus.EXPIRED


def scrub_notice(notice: Notice, needles: Needles) -> None:
    """Replace the needles in a notice sent to someone else (its texts, not its recipient): the
    message that person received stays, without the erased person's identifiers."""
    notice.recipient_name = needles.scrub(notice.recipient_name)
    notice.subject, notice.body_text = needles.scrub(notice.subject), needles.scrub(notice.body_text)
    notice.body_html, notice.core_text = needles.scrub(notice.body_html), needles.scrub(notice.core_text)
    notice.calendar = notice.calendar and needles.scrub(notice.calendar)
    notice.link_subject = notice.link_subject and needles.scrub(notice.link_subject)


def erase_traces(session: Session, programme_id: int, needles: Needles, counts: Counter[str], *,
                 audit_kept: tuple[str, ...] = (), stays: bool = False,
                 others: bool = False) -> dict[int, tuple[str, str, dict[str, Any]]]:
    """Erase what names these people outside their own rows: the programme's notices naming them
    (body erased, recipient when it is them; `others`, a person's erasure: a notice to someone else
    keeps its body, the needles replaced, `scrub_notice`), their personal links (revoked: the grants
    go) and form tokens. Returns the audit entries' replacements for `models.audit.redact_entries`
    (those whose action starts with one of `audit_kept` are left: public acts kept for the archives).
    `stays`: the person remains a pilot's contact: their links and their address as a notice's
    recipient stay (the address is a notice's deduplication key: erased, a reminder could leave again)."""
    if not needles:
        return {}
    for notice in session.exec(select(Notice).where(Notice.programme_id == programme_id)).all():
        texts = (notice.recipient_email, notice.recipient_name, notice.subject, notice.body_text, notice.body_html,
                 notice.calendar, notice.link_subject, notice.link_person, notice.core_text)
        theirs = notice.recipient_email.lower() in needles.emails
        if others and not theirs and any(needles.found(t) for t in texts):
            scrub_notice(notice, needles)
            session.add(notice)
            counts["avis à d'autres personnes : ses identifiants remplacés"] += 1
        elif notice.body_text != ERASED_BODY and any(needles.found(t) for t in texts) or theirs:
            if notice.body_text != ERASED_BODY:
                counts["avis nommant ces personnes effacés"] += 1
            erase_notice(notice, Needles(set(), needles.names, needles.phones) if stays else needles)
            session.add(notice)
    links = session.exec(select(PortalGrant).where(PortalGrant.programme_id == programme_id)).all()
    for grant in [] if stays else links:
        if grant.person.lower() in needles.emails or needles.found(grant.subject):
            session.delete(grant)
            counts["liens personnels révoqués"] += 1
    uses = [u.nonce for u in session.exec(select(PortalFormUse)).all() if needles.found(u.subject)]
    if uses:
        session.exec(delete(PortalFormUse).where(col(PortalFormUse.nonce).in_(uses)))
    replacements: dict[int, tuple[str, str, dict[str, Any]]] = {}
    for entry in session.exec(select(AuditEntry).where(AuditEntry.programme_id == programme_id)).all():
        if entry.action.startswith(audit_kept) if audit_kept else False:
            continue
        if needles.found(entry.actor) or needles.found(entry.summary) or needles.in_value(entry.details):
            assert entry.id is not None
            replacements[entry.id] = (needles.scrub(entry.actor), needles.scrub(entry.summary),
                                      needles.scrub_value(entry.details))
    counts["entrées du journal expurgées"] += len(replacements)
    return replacements
