"""The charter on the portal: a stale text's hash and a late signature are refused (nothing written),
a signature after the Cerdd's extension is accepted, and the certificate (page, PDF, HTML, the
back office's too) lists the three signatures of one text with their audit entries."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from sqlmodel import select

from models.charter import extend_charter
from models.charter_text import charter_sha256
from models.db import session_scope
from models.links import pilot_bearer
from models.person_data import find_person
from models.pilots import find_pilot
from models.recipients import all_parties
from models.tables import AuditEntry, CharterSignature, CharterText, PortalFormUse
from tests.conftest import at, ctx_of
from tests.portal.conftest import ARRAS, Clock, consultancy, link, territory
from tests.portal.helpers import assert_french_refusal, count, sign_form
from tests.portal.staff_login import signed_in


def _nothing_written(url: str) -> None:
    assert count(url, CharterSignature) == 0 and count(url, CharterText) == 0 and count(url, PortalFormUse) == 0


def test_a_form_posting_another_texts_hash_is_refused(selected: str, client_for) -> None:  # noqa: ANN001
    client = client_for(selected)
    _, path = link(selected, territory())
    form = sign_form(client.get(path).text)
    stale = {**form, "sha256": "ab" * 32}
    assert_french_refusal(client.post(path + "/charte", data=stale), 409,
                          "Le texte de la charte a changé depuis que vous l'avez lu")
    assert_french_refusal(client.post(path + "/charte", data={**form, "sha256": "<script>"}), 422, "illisible")
    _nothing_written(selected)
    assert client.post(path + "/charte", data=form).status_code == 303  # the same form, with the page's hash


def test_a_late_signature_is_refused_until_the_cerdd_extends_the_deadline(selected: str, client_for,  # noqa: ANN001
                                                                          clock: Clock) -> None:
    client = client_for(selected)
    with session_scope(selected) as session:  # a contact's own link: the signature names its holder
        holder = all_parties(ctx_of(session), find_pilot(ctx_of(session), ARRAS))["territoire"][0].email
    _, path = link(selected, lambda ctx: pilot_bearer(ctx, ARRAS, "territoire", holder))
    clock.now = at("2015-06-26T17:58")
    form = sign_form(client.get(path).text)
    clock.now = at("2015-06-26T18:00")  # the deadline is reached while the page is open
    assert_french_refusal(client.post(path + "/charte", data=form), 409, "Seul le Cerdd peut prolonger ce délai")
    _nothing_written(selected)
    page = client.get(path).text
    assert 'action="' + path + '/charte"' not in page and "ne se signe plus en ligne" in page
    with session_scope(selected) as session:
        ctx = ctx_of(session)
        extend_charter(ctx, find_pilot(ctx, ARRAS), to=at("2015-07-03T18:00"), reason="Délibération le 2 juillet",
                       at=at("2015-06-29T10:00"))
    clock.now = at("2015-06-30T10:00")
    page = client.get(path).text
    assert "ne se signe plus en ligne" not in page
    done = client.post(path + "/charte", data=sign_form(page))
    assert done.status_code == 303 and done.headers["location"].endswith("?fait=signature#charte")
    with session_scope(selected) as session:
        row, = session.exec(select(CharterSignature)).all()
        assert (row.via, row.via_person) == ("lien personnel territoire:200033579, version 1", holder)
        assert "chartersignature" in find_person(session, holder.upper()).rows  # the person's export finds it


def _sign_on_the_portal(url: str, client, clock: Clock) -> list[str]:  # noqa: ANN001
    """The three parties sign Arras's charter through their links, the Cerdd extending the deadline
    before the consultancy signs; returns the three parties' page paths."""
    paths = []
    for bearer_of, suffix in ((territory(), ""), (territory(party="cerdd"), ""), (consultancy(), f"/{ARRAS}")):
        _, path = link(url, bearer_of)
        paths.append(path + suffix)
    clock.now = at("2015-06-10T10:00")
    for path in paths[:2]:
        assert client.post(path + "/charte", data=sign_form(client.get(path).text)).status_code == 303
    with session_scope(url) as session:
        ctx = ctx_of(session)
        extend_charter(ctx, find_pilot(ctx, ARRAS), to=at("2015-07-10T18:00"), reason="Prestataire en congés",
                       at=at("2015-06-24T10:00"))
    clock.now = at("2015-07-01T11:00")  # after the programme's deadline, before the new one
    assert client.post(paths[2] + "/charte", data=sign_form(client.get(paths[2]).text)).status_code == 303
    return paths


def _text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def test_the_certificate_lists_three_signatures_of_one_text_and_their_audit_entries(  # noqa: ANN001
        selected: str, client_for, clock: Clock) -> None:
    client = client_for(selected)
    paths = _sign_on_the_portal(selected, client, clock)
    with session_scope(selected) as session:
        digest = charter_sha256(ctx_of(session), find_pilot(ctx_of(session), ARRAS))
        rows = session.exec(select(CharterSignature)).all()
        entries = {e.id: e for e in session.exec(select(AuditEntry).where(AuditEntry.action == "charte.signee"))}
    assert {r.text_sha256 for r in rows} == {digest} and len(rows) == 3
    assert {r.audit_entry_id for r in rows} == set(entries)
    assert {e.details["charte_sha256"] for e in entries.values()} == {digest}
    page = client.get(paths[0]).text
    certificate = client.get(re.search(r'href="([^"]+/charte/certificat)"', page)[1])  # type: ignore[index]
    assert certificate.status_code == 200
    shown = certificate.text
    assert digest in shown and "Les 3 parties ont signé le même texte" in shown
    for entry_id in entries:
        assert f"n° {entry_id}" in shown
    assert "lien personnel territoire:200033579, version 1 (lien de la partie)" in shown
    assert "jeton" not in shown.lower()
    pdf = client.get(paths[1] + "/charte/certificat.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    words = _text(pdf.content)
    assert digest in words.replace(" ", "") and words.count("Frédéric Leturque (Président)") == 3
    for entry_id, entry in entries.items():
        assert f"Entrée du journal d'audit : n° {entry_id} (rang {entry.seq} de la chaîne" in words
        assert entry.entry_hash and entry.entry_hash in words.replace(" ", "")  # beside it, its chained hash
    assert "Le 1er juillet 2015" not in words and "mercredi 1er juillet 2015 à 11h00" in words
    html = client.get(paths[2] + "/charte/certificat.html")
    assert html.status_code == 200 and "attachment" in html.headers["content-disposition"]
    assert digest in html.text and html.text.count(digest) == 4  # the text's, and each signature's
    assert all(entry.entry_hash in html.text and entry.entry_hash in shown for entry in entries.values())
    tokens = [p.split("/")[2] for p in paths]
    assert not any(token in html.text or token in words for token in tokens)  # links named, never their tokens
    assert tokens[1] not in shown and tokens[2] not in shown  # the page carries its own visitor's link only
    assert client.get(paths[0] + "/charte/certificat.exe").status_code == 404
    staff = signed_in(client_for, selected, clock, "lecture")
    for kind, media in (("pdf", "application/pdf"), ("html", "text/html; charset=utf-8")):
        answer = staff.get(f"/equipe/pilotes/{ARRAS}/certificat.{kind}")
        assert answer.status_code == 200 and answer.headers["content-type"] == media
    assert f"/equipe/pilotes/{ARRAS}/certificat.pdf" in staff.get(f"/equipe/pilotes/{ARRAS}").text
