"""The online application over HTTP: « Commencer » (every refusal in French, the link mailed and never
shown), the draft's page by the mailed link (save, verify, files, deposit, late deposit at
12:00:00), forged and other leads' links, replayed forms, the withdrawal and its window."""

from __future__ import annotations

import html
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import select

from models.db import session_scope
from models.links import LinkSettings
from models.tables import Application, ApplicationDraft, ApplicationVersion, Notice
from notifications.message import personal_link
from tests.conftest import at, open_call
from tests.draft_data import ACHICOURT, ARRAS, UNKNOWN, arras_fields, arras_files
from tests.guards import HANG_GUARD, join_or_fail
from tests.portal.conftest import SECRET, Clock
from tests.portal.helpers import assert_french_refusal, form_ending, notices

LENS = "200040947"


@pytest.fixture
def call_open(loaded: str, clock: Clock) -> str:
    open_call(loaded)
    clock.now = at("2015-04-20T10:00")
    return loaded


def start(client, siren: str = ARRAS, email: str = "claire@cu-arras.example.org"):  # noqa: ANN001, ANN201
    page = client.get("/appel/cerdd-2015/commencer").text
    return client.post("/appel/cerdd-2015/commencer", data={**form_ending(page, "/commencer").hidden,
                                                            "siren": siren, "courriel": email})


def mailed_path(url: str, email: str = "claire@cu-arras.example.org") -> str:
    """The draft's page as the last link mailed to `email` names it."""
    with session_scope(url) as session:
        notice = session.exec(select(Notice).where(Notice.kind == "lien_candidature", Notice.recipient_email == email)
                              .order_by(Notice.id.desc())).first()  # type: ignore[union-attr]
        link = personal_link(notice, LinkSettings(SECRET, "http://portail", 0)) if notice is not None else None
        assert link, "aucun lien envoyé"
        return urlsplit(link).path


@pytest.mark.parametrize(("siren", "status", "words"), [
    (ACHICOURT, 409, "la commune Achicourt, membre de CU d'Arras (SIREN 200033579)"),
    (UNKNOWN, 409, "n'est celui d'aucun EPCI des départements 59, 62 au registre"),
    ("12345", 422, "Un numéro SIREN compte exactement 9 chiffres."),
    ("<script>", 422, "exactement 9 chiffres"),
])
def test_start_refusals_in_french(call_open: str, client_for, siren: str, status: int, words: str) -> None:  # noqa: ANN001
    answer = start(client_for(call_open), siren)
    assert answer.status_code == status and words in html.unescape(answer.text)
    assert "<script>" not in answer.text and notices(call_open, "lien_candidature") == []


def test_the_link_is_mailed_never_shown_and_a_stranger_reaches_nothing(call_open: str, client_for) -> None:  # noqa: ANN001
    client = client_for(call_open)
    answer = start(client)
    assert answer.status_code == 200 and "Un lien vous a été envoyé" in html.unescape(answer.text)
    path = mailed_path(call_open)
    assert path.split("/")[2] not in answer.text and path.startswith("/l/") and path.endswith(f"/candidat/{ARRAS}")
    again = start(client, email="intrus@example.org")
    assert "déjà ouverte pour cet EPCI" in html.unescape(again.text) and "claire" not in again.text
    assert {n.recipient_email for n in notices(call_open, "lien_candidature")} == {"claire@cu-arras.example.org"}
    assert client.get(path).status_code == 200
    assert_french_refusal(client.get(path.replace(ARRAS, LENS)), 403, "ne donne pas accès à cette candidature")
    forged = path.split("/")[2][:-3] + "abc"
    assert_french_refusal(client.get(f"/l/{forged}/candidat/{ARRAS}"), 403, "n'est pas valide")


def _save(client, path: str, action: str = "enregistrer", **extra: str):  # noqa: ANN001, ANN201
    fields, themes = arras_fields()
    token = form_ending(client.get(path).text, "/enregistrer").hidden
    return client.post(path + "/enregistrer", data={**token, **fields, "themes": themes, "action": action, **extra})


def _upload(client, path: str, name: str, data: bytes, role: str = "formulaire"):  # noqa: ANN001, ANN201
    token = form_ending(client.get(path).text, "/piece").hidden
    return client.post(path + "/piece", data={**token, "role": role}, files={"fichier": (name, data)})


def _deposit(client, path: str):  # noqa: ANN001, ANN201
    return client.post(path + "/deposer", data=form_ending(client.get(path).text, "/deposer").hidden)


def test_save_verify_upload_deposit_and_the_deadline(call_open: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    client = client_for(call_open)
    start(client)
    path = mailed_path(call_open)
    checked = client.get(_save(client, path, "verifier").headers["location"])
    assert "Pièces jointes" in html.unescape(checked.text) and "version PDF" in html.unescape(checked.text)
    assert_french_refusal(_upload(client, path, "virus.pdf", b"MZ\x90\x00"), 415,
                          "son contenu n'est pas celui d'un fichier PDF")
    for name, data in arras_files().items():
        assert _upload(client, path, name, data).status_code == 303
    page = client.get(client.get(path).url).text
    assert "Aucun problème" in html.unescape(client.get(path + "?fait=verifie").text)
    token = form_ending(page, "/deposer").hidden
    first = client.post(path + "/deposer", data=token)
    assert first.status_code == 303 and "fait=depose" in first.headers["location"]
    assert_french_refusal(client.post(path + "/deposer", data=token), 409, "déjà été envoyé")  # the double click
    assert "CERDD-2015-0001" in client.get(path).text
    receipt, = notices(call_open, "accuse_reception")[:1]
    assert "SHA-256" in receipt.body_text
    clock.now = at("2015-05-07T12:00:00")
    late = client.get(path)
    assert "Lecture seule" in late.text and "/deposer" not in late.text
    with session_scope(call_open) as session:
        assert len(session.exec(select(ApplicationVersion)).all()) == 1


def test_a_late_deposit_at_noon_exactly_is_refused(call_open: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    client = client_for(call_open)
    start(client)
    path = mailed_path(call_open)
    _save(client, path)
    for name, data in arras_files().items():
        _upload(client, path, name, data)
    clock.now = at("2015-05-07T11:59:00")  # the page shown a minute before noon, the button pressed at noon
    token = form_ending(client.get(path).text, "/deposer").hidden
    clock.now = at("2015-05-07T12:00:00")
    assert_french_refusal(client.post(path + "/deposer", data=token), 409, "La date limite de l'appel était le jeudi "
                                                                           "7 mai 2015 à 12h00")
    with session_scope(call_open) as session:
        assert session.exec(select(Application)).all() == []


def test_hostile_draft_fields(call_open: str, client_for) -> None:  # noqa: ANN001
    client = client_for(call_open)
    start(client)
    path = mailed_path(call_open)
    assert_french_refusal(_save(client, path, **{"chef-nom": "x" * 400}), 422, "dépasse 300 caractères")
    assert_french_refusal(client.post(path + "/enregistrer", data={"chef-nom": "x"}), 400, "jeton de sécurité")
    answer = _save(client, path, **{"motivations": "<script>alert(1)</script>"})
    assert answer.status_code == 303 and "<script>alert" not in client.get(path).text


def test_withdrawal_before_the_jury_then_too_late(call_open: str, client_for, clock: Clock) -> None:  # noqa: ANN001
    client = client_for(call_open)
    start(client)
    path = mailed_path(call_open)
    _save(client, path)
    for name, data in arras_files().items():
        _upload(client, path, name, data)
    _deposit(client, path)
    clock.now = at("2015-06-04T14:00")
    assert "ne peut plus être retirée : le jury s'est réuni" in html.unescape(client.get(path + "/retirer").text)
    clock.now = at("2015-05-20T10:00")
    page = client.get(path + "/retirer").text
    token = form_ending(page, "/retirer").hidden
    assert_french_refusal(client.post(path + "/retirer", data=token), 422, "Cochez la case de confirmation")
    token = form_ending(client.get(path + "/retirer").text, "/retirer").hidden
    assert client.post(path + "/retirer", data={**token, "confirme": "oui", "motif": "Report"}).status_code == 303
    assert "retirée par le territoire" in html.unescape(client.get(path).text)
    assert [n.recipient_email for n in notices(call_open, "candidature_retiree")] == ["aboutonne@cerdd.org"]


def _at_once(count: int, click: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """`count` requests sent at the same moment, one thread each."""
    gate = threading.Barrier(count)
    answers: list[httpx.Response] = []

    def run(index: int) -> None:
        gate.wait()
        answers.append(click(index))

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    join_or_fail(threads, "clics simultanés")
    return answers


def test_four_starts_at_once_for_one_lead_make_one_draft_and_no_error(call_open: str, serve: Any) -> None:
    """« Commencer » pressed at once by four people for the same new lead (PostgreSQL too): one
    draft, its link to one address; the others are told a draft exists, never an internal error."""
    client = httpx.Client(base_url=serve(call_open), timeout=HANG_GUARD)
    pages = [client.get("/appel/cerdd-2015/commencer").text for _ in range(4)]
    answers = _at_once(4, lambda i: client.post("/appel/cerdd-2015/commencer", data={
        **form_ending(pages[i], "/commencer").hidden, "siren": ARRAS, "courriel": f"p{i}@cu-arras.example.org"}))
    assert sorted(a.status_code for a in answers) == [200, 200, 200, 200]
    assert sum("déjà ouverte pour cet EPCI" in html.unescape(a.text) for a in answers) == 3
    with session_scope(call_open) as session:
        [draft] = session.exec(select(ApplicationDraft)).all()
    assert len(draft.holders) == 1 and len(notices(call_open, "lien_candidature")) == 1


def test_four_deposits_at_once_from_four_tabs_record_one_version(call_open: str, serve: Any) -> None:
    """« Déposer » pressed in four tabs at the same moment (four valid form tokens; PostgreSQL too):
    one version, one acknowledgement per contact; the other tabs are told it was deposited already."""
    client = httpx.Client(base_url=serve(call_open), timeout=HANG_GUARD)
    start(client)
    path = mailed_path(call_open)
    _save(client, path)
    for name, data in arras_files().items():
        _upload(client, path, name, data)
    tabs = [form_ending(client.get(path).text, "/deposer").hidden for _ in range(4)]
    answers = _at_once(4, lambda i: client.post(path + "/deposer", data=tabs[i]))
    assert sorted(a.headers["location"].split("fait=")[1].split("#")[0] for a in answers) == [
        "deja-depose", "deja-depose", "deja-depose", "depose"]
    with session_scope(call_open) as session:
        assert len(session.exec(select(ApplicationVersion)).all()) == 1
    contacts = {n.recipient_email for n in notices(call_open, "accuse_reception")}
    assert len(notices(call_open, "accuse_reception")) == len(contacts)


def test_the_draft_link_leaves_at_once_when_the_portal_delivers_at_once(call_open: str, clock: Clock,
                                                                         tmp_path: Any,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The served portal (`transitions portal`, `serve`) sends what an act queued that leaves at once
    right after the act: the draft's link is in the outbox's folder without any delivery run."""
    from fastapi.testclient import TestClient

    from config.settings import reset_settings
    from tests.guards import wait_for
    from tests.portal.conftest import SECRET
    from transitions.portal.app import create_app

    monkeypatch.setenv("NOTICE_CHANNEL", "file")
    monkeypatch.setenv("OUTBOX_DIR", str(tmp_path / "envoyes"))
    reset_settings()
    with TestClient(create_app(call_open, SECRET, clock=clock, deliver_at_once=True),
                    follow_redirects=False) as client:
        assert start(client).status_code == 200

        def sent() -> list[str]:
            with session_scope(call_open) as session:
                return [n.status for n in session.exec(select(Notice).where(Notice.kind == "lien_candidature"))]

        assert wait_for(lambda: sent() == ["envoye"], "le lien du brouillon n'est pas parti")
    mails = list((tmp_path / "envoyes").glob("*lien_candidature*.eml"))
    assert len(mails) == 1 and b"claire@cu-arras.example.org" in mails[0].read_bytes()
