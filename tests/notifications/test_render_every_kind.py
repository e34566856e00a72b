"""Every notice kind renders from a sample context taken from a real programme: French subject,
text with its greeting and signature, a core text without them, HTML escaping what people wrote."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from flows.plain import run_tick_plain
from models import accompaniment, jury
from models.context import ProgrammeContext
from models.db import session_scope
from models.forms import form_of
from models.links import Bearer
from models.notices import CONTEXT, NoticeKind, Recipient
from models.tables import (
    Application,
    Deliverable,
    DueDateRequest,
    Intent,
    Milestone,
    Notice,
    PartnerConfirmation,
    Pilot,
    PilotPhase,
    StaffMember,
    TrainingSession,
)
from notifications.render import render_notice
from tests.conftest import at, ctx_of, select_three_pilots


def _sample(ctx: ProgrammeContext, session: Session, kind: NoticeKind) -> dict[str, Any]:
    """A context for `kind` made of real rows of the replayed programme."""
    definition = ctx.definition
    application = session.exec(select(Application).order_by(Application.id)).first()  # type: ignore[arg-type]
    pilot = session.exec(select(Pilot)).first()
    assert application is not None and pilot is not None
    now = at("2015-09-01T09:00")
    progress = accompaniment.progress(ctx, pilot, now)
    values: dict[str, Any] = {
        "candidature": application, "formulaire": form_of(session, application), "avertissements": ["court"],
        "pieces": [], "recu_le": now, "jury": definition.jury, "candidatures": [application],
        "recevables": [application], "refus_guichet": [], "a_noter": [application.receipt_number],
        "note": 4.5, "rang": 1, "motif": "notes manquantes", "classement": jury.ranking(ctx),
        "pilote": pilot, "partie": "territoire", "partie_libelle": "du territoire",
        "charte": definition.accompaniment.charter, "lancement": definition.accompaniment.kickoff,
        "en_retard": True, "signees": ["cerdd"], "accompagnement": definition.accompaniment,
        "phase": session.exec(select(PilotPhase)).first(), "total": 5,
        "jalon": session.exec(select(Milestone)).first(), "avancement": progress,
        "session": session.exec(select(TrainingSession)).first(),
        "livrable": session.exec(select(Deliverable)).first(), "bilans": [progress],
        "avis": [session.exec(select(Notice)).first()], "elements": [
            {"subject": "Objet", "text": "Texte", "lien": "https://portail.example.org/l/x/territoire/200033579"}],
        "jour": now, "jours": [now], "proposition": [application],
        "intention": Intent(programme_id=ctx.programme_id, siren="200033579", name="CU d'Arras",
                            contact_name="Claire Dufour", contact_email="c@example.org", declared_at=now),
        "appel": definition.call,
        "echeance": definition.accompaniment.charter.sign_by, "remplace": None, "acquis": ["session tenue"],
        "manquants": ["livrable « Diagnostic » accepté"],
        "ancienne_date": now, "ancien_lieu": "Siège", "manquantes": ["du territoire"], "remplacant": pilot,
        "retrait": "a été retirée du programme par le Cerdd",
        "commentaire": "Compléter le diagnostic", "ancienne_echeance": now,
        "depuis": "1 jour", "siren": "200033579", "egalite": "égalité à 15/20 entre A et B pour la dernière place",
        "porteur": Bearer("territoire", siren="200033579", person="c@example.org"), "par_le_cerdd": True,
        "chef_de_file": "CU d'Arras", "par": "claire@example.org",
        "objet": "Candidature <Transitions> & annexe", "expediteur": "claire@example.org",
        "problemes": ["le courriel n'a aucune pièce jointe", "joignez le formulaire en version PDF"],
        "hors_delai": False, "demandeur": "intrus<script>@example.org", "titulaires": 1, "depose": False,
        "membre": StaffMember(email="anne@cerdd.example.org", name="Anne <Martin>", role="charge_de_mission"),
        "adresse": "https://portail.example.org/equipe/invitation/abc", "jusqu_au": now,
        "partenaire": PartnerConfirmation(programme_id=ctx.programme_id, lead_siren="200033579",
                                          lead_name="CU d'Arras", number=1, fingerprint="0" * 64,
                                          partner_name="Club <des> entreprises", contact_email="c@example.org",
                                          state="confirmee", requested_at=now, requested_by="portail",
                                          answered_at=now),
        "changements": [f"{pilot.name} : Session « <Formation> & co » : déplacée du jeudi 1er octobre 2015, "
                        "9h30–12h30, au jeudi 8 octobre 2015, 9h30–12h30"], "version": 2,
        "resume": "1 date modifiée",
        "demande": DueDateRequest(id=7, deliverable_id=1, requested_due=now, reason="Entretiens décalés",
                                  requested_at=now, requested_by="prestataire"),
    }
    return {"programme": definition, "organisateur": definition.organiser,
            "destinataire": Recipient("claire@example.org", "Claire <Dufour> & Cie"),
            **{name: values[name] for name in CONTEXT[kind]}}


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three pilots selected, their charters signed, the accompaniment started (SQLite)."""
    import os

    from config.settings import reset_settings
    from models.db import dispose_engines, migrate
    from tests.conftest import PROGRAMME
    from transitions.programmes import load_programme

    folder = tmp_path_factory.mktemp("render")
    url = f"sqlite:///{folder / 'transitions.db'}"
    saved = {key: os.environ.get(key) for key in ("DATABASE_URL", "OUTBOX_DIR")}
    os.environ.update({"DATABASE_URL": url, "OUTBOX_DIR": str(folder / "outbox")})
    reset_settings()
    migrate(url)
    from models.charter import sign_charter
    from models.context import install_programme

    with session_scope(url) as session:
        install_programme(session, load_programme(PROGRAMME), at("2015-04-01T09:00"), "test")
    select_three_pilots(url)
    with session_scope(url) as session:
        ctx = ctx_of(session)
        for pilot in session.exec(select(Pilot)).all():
            for party in ("territoire", "cerdd", "prestataire"):
                sign_charter(ctx, pilot, party=party, signatory="Signataire", at=at("2015-06-15T10:00"))
    run_tick_plain(at("2015-07-01T09:30"))
    yield url
    dispose_engines()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    reset_settings()


@pytest.mark.parametrize("kind", list(NoticeKind))
def test_every_kind_renders_from_a_sample_context(started: str, kind: NoticeKind) -> None:
    with session_scope(started) as session:
        ctx = ctx_of(session)
        rendered = render_notice(kind, _sample(ctx, session, kind))
    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.text.startswith("Bonjour Claire <Dufour> & Cie,")
    assert "Bien cordialement" in rendered.text
    assert rendered.core_text and "Bonjour" not in rendered.core_text and "Bien cordialement" not in rendered.core_text
    assert rendered.core_text in rendered.text
    assert '<html lang="fr">' in rendered.html and "Claire &lt;Dufour&gt; &amp; Cie" in rendered.html
