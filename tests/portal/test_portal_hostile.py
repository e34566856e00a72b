"""The portal over real HTTP (uvicorn on loopback) facing a hostile outsider or a hostile bearer
of a valid link: every refusal is a French page with the right status, naming the problem,
without a traceback, and leaves the database exactly as it was.

Failures are reported with `expect` (pytest.fail without a traceback): formatting a traceback
while the server thread compiles templates crashed pytest with INTERNALERROR on CPython 3.11.7."""

from __future__ import annotations

import hashlib
import html
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select as sa_select
from sqlmodel import SQLModel, select

from models.db import session_scope
from models.jury import find_application
from models.tables import DueDateRequest, DueDateRequestStatus
from tests.conftest import at, ctx_of
from tests.guards import HANG_GUARD
from tests.portal.conftest import ARRAS, consultancy, juror, link, territory
from tests.portal.helpers import form_ending

HEADERS = {"content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options"}


def snapshot(url: str) -> dict[str, str]:
    """A digest of every row of every table: equal snapshots mean an unchanged database."""
    digests = {}
    with session_scope(url) as session:
        for table in SQLModel.metadata.sorted_tables:
            rows = session.execute(sa_select(table).order_by(*table.primary_key.columns)).all()
            digests[table.name] = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
    return digests


def expect(condition: bool, message: object) -> None:
    """Fail with `message` alone: no traceback to format while the server thread compiles
    templates (CPython 3.11.7's parser is not thread-safe: gh-106905 turns it into INTERNALERROR)."""
    if not condition:
        pytest.fail(str(message), pytrace=False)


def refused(response: httpx.Response, status: int, words: str) -> None:
    """A French refusal page with `status`, naming the problem (`words`), without a traceback."""
    text = html.unescape(response.text)
    expect(response.status_code == status, f"HTTP {response.status_code} au lieu de {status} : {text[-600:]}")
    expect('<html lang="fr">' in response.text and "Traceback" not in response.text, text[-600:])
    expect(words in text, f"« {words} » absent de : {text[-600:]}")
    expect(HEADERS <= set(response.headers), f"en-têtes manquants : {HEADERS - set(response.headers)}")


def unchanged(url: str, before: dict[str, str]) -> None:
    changed = [name for name, digest in snapshot(url).items() if before.get(name) != digest]
    expect(not changed, f"la base a changé après un refus : {changed}")


@pytest.fixture
def http(serve: Callable[[str], str]):  # noqa: ANN201
    """An HTTP client on a real portal (uvicorn on loopback) serving the given database."""
    clients: list[httpx.Client] = []

    def make(url: str) -> httpx.Client:
        client = httpx.Client(base_url=serve(url), follow_redirects=False, timeout=HANG_GUARD,
                              headers={"connection": "close"})
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


# --- A juror taken off the jury reads no attachment -----------------------------------------------
# The Cerdd replaces a juror (programme re-installed with another member): the old link gets 403 on
# the jury page and on every application's files (piece() checks membership like the other jury routes).

def test_a_juror_taken_off_the_jury_cannot_download_attachments(scoring: str, http) -> None:  # noqa: ANN001
    import dataclasses

    from models.context import install_programme
    from models.programme import ProgrammeDefinition
    from models.tables import ApplicationFile
    from tests.conftest import PROGRAMME
    from transitions.programmes import load_programme

    client = http(scoring)
    _, path = link(scoring, juror("jury-region@example.org"), when="2015-05-20T10:00")
    with session_scope(scoring) as session:
        file_id = min(row.id or 0 for row in session.exec(select(ApplicationFile)).all())
    expect(client.get(f"{path}/piece/{file_id}").status_code == 200, "le juré doit d'abord voir la pièce")
    bundle = load_programme(PROGRAMME)
    data = bundle.definition.model_dump(mode="json")
    for member in data["jury"]["members"]:
        if member["email"] == "jury-region@example.org":
            member["email"] = "nouveau-juré-region@example.org"
    with session_scope(scoring) as session:  # the Cerdd replaces the Region's juror
        install_programme(session, dataclasses.replace(bundle, definition=ProgrammeDefinition.model_validate(data)),
                          at("2015-05-25T10:00"), "test")
    refused(client.get(path), 403, "n'est plus celui d'un membre du jury")
    answer = client.get(f"{path}/piece/{file_id}")
    expect(answer.status_code == 403 and b"PK" not in answer.content[:4],
           f"HTTP {answer.status_code}, {len(answer.content)} octets de la pièce envoyés à un ancien juré")


# --- Control characters in multi-line fields are a French 422 -------------------------------------
# NUL, ESC and bidi overrides in participants, due-date and conflict reasons: models.text.require_text
# names the field and the character (InvalidInput: 422 here, exit 2 on the command line).

@pytest.mark.parametrize("people", ["Claire\x00Dufour", "Claire \u202eDufour", "Claire\x1b[31mDufour"],
                         ids=["nul", "rtl", "echappement"])
def test_control_characters_in_the_participants_are_a_french_422(started: str, http, people: str) -> None:  # noqa: ANN001
    client = http(started)
    _, path = link(started, territory(), when="2015-07-01T10:00")
    form = form_ending(client.get(path).text, "/session/formation-1")
    before = snapshot(started)
    answer = client.post(form.action, data={**form.hidden, "presence": "oui", "participants": people})
    refused(answer, 422, "non permis")
    refused(answer, 422, "Participants")
    unchanged(started, before)


def test_control_characters_in_a_due_date_reason_are_a_french_422(started: str, http) -> None:  # noqa: ANN001
    client = http(started)
    _, path = link(started, consultancy(), when="2015-07-01T10:00")
    form = form_ending(client.get(path).text, f"{ARRAS}/livrable/diagnostic/report")
    before = snapshot(started)
    answer = client.post(form.action, data={**form.hidden, "echeance": "2015-09-15",
                                            "motif": "Entretiens\x00 décalés"})
    refused(answer, 422, "non permis")
    unchanged(started, before)


def test_control_characters_in_a_conflict_reason_are_a_french_422(scoring: str, http) -> None:  # noqa: ANN001
    client = http(scoring)
    _, path = link(scoring, juror(), when="2015-05-20T10:00")
    with session_scope(scoring) as session:
        receipt = find_application(ctx_of(session), ARRAS).receipt_number
    form = form_ending(client.get(f"{path}/candidature/{receipt}").text, f"/jury/conflit/{receipt}")  # its own page
    before = snapshot(scoring)
    refused(client.post(form.action, data={**form.hidden, "motif": "Élu \u202ede la CU"}), 422, "non permis")
    unchanged(scoring, before)


# --- A score is ASCII digits within the scale -----------------------------------------------------
# « ² » (a digit for str.isdigit, not for int), 5 000 digits (beyond int()'s limit) and non-Latin
# digits are « hors barème »: 422, nothing saved.

@pytest.mark.parametrize("value", ["²", "9" * 5000, "\u0663", "\uff14", "+3", " 3 3", "0x3"],
                         ids=["exposant-2", "5000-chiffres", "arabe-3", "pleine-chasse-4", "signe", "espace", "hexa"])
def test_a_score_that_is_not_a_plain_number_is_refused_in_french(scoring: str, http, value: str) -> None:  # noqa: ANN001
    client = http(scoring)
    _, path = link(scoring, juror(), when="2015-05-20T10:00")
    with session_scope(scoring) as session:
        arras = find_application(ctx_of(session), ARRAS)
    form = form_ending(client.get(f"{path}/candidature/{arras.receipt_number}").text, "/jury/notes")
    before = snapshot(scoring)
    refused(client.post(form.action, data={**form.hidden, f"note-{arras.id}-portage": value}), 422, "hors barème")
    unchanged(scoring, before)


# --- An identifier in the path beyond any row is a 404 --------------------------------------------
# Path row numbers are bounded (BIGINT): no OverflowError from SQLite, a French 404.

def test_a_huge_document_number_is_a_404(scoring: str, http) -> None:  # noqa: ANN001
    client = http(scoring)
    _, path = link(scoring, juror(), when="2015-05-20T10:00")
    refused(client.get(f"{path}/piece/99999999999999999999"), 404, "n'existe pas")
    refused(client.get(f"{path}/piece/9223372036854775808"), 404, "n'existe pas")


def test_a_huge_request_number_is_a_404(started: str, http) -> None:  # noqa: ANN001
    client = http(started)
    _, path = link(started, territory(party="cerdd"), when="2015-07-01T10:00")
    before = snapshot(started)
    answer = client.post(f"{path}/demande/99999999999999999999", data={"jeton": "x", "decision": "accorder"})
    refused(answer, 404, "n'existe pas")
    unchanged(started, before)


# --- Text that is not UTF-8 is refused, never signed as « � » -------------------------------------
# Starlette decodes invalid UTF-8 as U+FFFD; _field() refuses it, naming the field.

def test_invalid_utf8_in_a_signatory_name_is_refused(selected: str, http) -> None:  # noqa: ANN001
    client = http(selected)
    _, path = link(selected, territory())
    form = form_ending(client.get(path).text, "/charte")
    before = snapshot(selected)
    body = (f"jeton={form.hidden['jeton']}&sha256={form.hidden['sha256']}&lu=oui&qualite=Pr%C3%A9sident"
            "&signataire=Fr%E9d%E9ric%FF%FE").encode()
    answer = client.post(path + "/charte", content=body,
                         headers={"content-type": "application/x-www-form-urlencoded"})
    refused(answer, 422, "signataire")
    unchanged(selected, before)


# --- A malformed identifier in the path is a 404 --------------------------------------------------
# A path segment that is not a number names no page: 404, not « formulaire incomplet ».

def test_a_document_number_that_is_not_a_number_is_a_404(scoring: str, http) -> None:  # noqa: ANN001
    client = http(scoring)
    _, path = link(scoring, juror(), when="2015-05-20T10:00")
    refused(client.get(f"{path}/piece/abc"), 404, "n'existe pas")


# --- Oversized and malformed forms get a specific French refusal ----------------------------------
# Starlette's form-parser refusals (HTTPException 400 in English) are mapped to French 413/422/400.

def test_a_two_megabyte_name_is_refused_as_too_long(selected: str, http) -> None:  # noqa: ANN001
    client = http(selected)
    _, path = link(selected, territory())
    form = form_ending(client.get(path).text, "/charte")
    before = snapshot(selected)
    answer = client.post(path + "/charte", data={**form.hidden, "lu": "oui", "qualite": "Président",
                                                 "signataire": "A" * (2 * 1024 * 1024)})
    expect(answer.status_code in (413, 422), f"HTTP {answer.status_code} : {answer.text[-400:]}")
    refused(answer, answer.status_code, "trop long")
    unchanged(selected, before)


def test_two_files_too_many_fields_and_a_truncated_upload_are_named(started: str, http) -> None:  # noqa: ANN001
    client = http(started)
    _, path = link(started, consultancy(), when="2015-07-01T10:00")
    form = form_ending(client.get(path).text, f"{ARRAS}/livrable/methode/remise")
    before = snapshot(started)
    pdf = ("a.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")
    refused(client.post(form.action, data=form.hidden, files=[("fichier", pdf), ("fichier", pdf)]),
            422, "Un seul fichier")
    extra = {f"champ-{n}": "x" for n in range(20)}
    refused(client.post(form.action, data={**form.hidden, **extra}, files={"fichier": pdf}), 413, "trop de champs")
    body = (b"--XyZ\r\ncontent-disposition: form-data; name=\"jeton\"\r\n\r\n" + form.hidden["jeton"].encode()
            + b"\r\n--XyZ\r\ncontent-disposition: form-data; name=\"fichier\"; filename=\"a.pdf\"\r\n"
            b"content-type: application/pdf\r\n\r\n%PDF-1.4")  # cut off: no closing boundary
    truncated = client.post(form.action, content=body, headers={"content-type": "multipart/form-data; boundary=XyZ"})
    refused(truncated, 422, "Choisissez le fichier du livrable")  # the unfinished part is dropped, not stored
    unchanged(started, before)


# --- The link is checked before the form is read --------------------------------------------------
# A tampered or revoked link gets 403/410 even when its form (up to 10 MiB) is wrong too.

def test_a_tampered_link_without_a_file_is_refused_as_a_bad_link(started: str, http) -> None:  # noqa: ANN001
    client = http(started)
    _, path = link(started, consultancy(), when="2015-07-01T10:00")
    token = path.split("/")[2]
    bad = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    answer = client.post(f"{bad}/{ARRAS}/livrable/methode/remise", data={"jeton": "x"},
                         files={"autre": ("a.txt", b"a", "text/plain")})
    refused(answer, 403, "pas valide")


def test_a_revoked_link_with_a_wrong_form_is_refused_as_revoked(started: str, http) -> None:  # noqa: ANN001
    client = http(started)
    _, old = link(started, consultancy(), when="2015-07-01T10:00")
    link(started, consultancy(), when="2015-07-01T11:00")  # a new link revokes the old one
    before = snapshot(started)
    answer = client.post(f"{old}/{ARRAS}/livrable/methode/remise", data={"jeton": "x"},
                         files=[("fichier", ("a.pdf", b"%PDF-1.4", "application/pdf")),
                                ("fichier", ("b.pdf", b"%PDF-1.4", "application/pdf"))])
    expect(answer.status_code == 410, f"HTTP {answer.status_code} au lieu de 410 : {answer.text[-400:]}")
    refused(client.post(f"{old}/{ARRAS}/livrable/methode/report", data={"jeton": "x" * 20_000}), 410, "")
    unchanged(started, before)


# --- HEAD is answered like GET --------------------------------------------------------------------
# RFC 9110 §9.3.2: a server that answers GET answers HEAD (monitoring probes, mail link scanners).

def test_head_is_answered_like_get(selected: str, http) -> None:  # noqa: ANN001
    client = http(selected)
    _, path = link(selected, territory())
    health = client.head("/sante")
    expect(health.status_code == 200, f"HEAD /sante : HTTP {health.status_code}")
    page = client.head(path)
    expect(page.status_code == 200 and HEADERS <= set(page.headers), f"HEAD sur la page : HTTP {page.status_code}")
    expect(page.content == b"", f"HEAD renvoie un corps de {len(page.content)} octets")
    expect(client.post("/sante").status_code == 405, "POST /sante doit rester refusé")


# --- A conflict's reason over 2 000 characters is refused, not cut --------------------------------
# Like every other limit: a French 422, nothing stored.

def test_a_conflict_reason_over_the_limit_is_refused_not_truncated(scoring: str, http) -> None:  # noqa: ANN001
    client = http(scoring)
    _, path = link(scoring, juror(), when="2015-05-20T10:00")
    with session_scope(scoring) as session:
        receipt = find_application(ctx_of(session), ARRAS).receipt_number
    form = form_ending(client.get(f"{path}/candidature/{receipt}").text, f"/jury/conflit/{receipt}")  # its own page
    before = snapshot(scoring)
    refused(client.post(form.action, data={**form.hidden, "motif": "é" * 2500}), 422, "trop long (2500 caractères")
    unchanged(scoring, before)


# --- A second decision on a due-date request is refused, not reported as recorded -----------------
# The Cerdd's second tab gets 409 « déjà décidée »; the first decision stands.

def test_a_second_decision_from_another_tab_is_not_reported_as_recorded(started: str, http) -> None:  # noqa: ANN001
    client = http(started)
    _, consultancy_path = link(started, consultancy(), when="2015-07-01T10:00")
    ask = form_ending(client.get(consultancy_path).text, f"{ARRAS}/livrable/diagnostic/report")
    expect(client.post(ask.action, data={**ask.hidden, "echeance": "2015-09-15", "motif": "Entretiens"})
           .status_code == 303, "la demande de report doit être enregistrée")
    _, path = link(started, territory(party="cerdd"), when="2015-07-01T10:00")
    first, second = (form_ending(client.get(path).text, "/demande/1") for _ in range(2))
    expect(client.post(first.action, data={**first.hidden, "decision": "accorder"}).status_code == 303,
           "la première décision doit être enregistrée")
    before = snapshot(started)
    answer = client.post(second.action, data={**second.hidden, "decision": "refuser"})
    with session_scope(started) as session:
        request = session.exec(select(DueDateRequest)).one()
        expect(request.status == DueDateRequestStatus.GRANTED, request.status)
    refused(answer, 409, "déjà")
    unchanged(started, before)


def test_a_hand_in_without_its_form_token_is_refused_for_the_token_first(started: str, http) -> None:  # noqa: ANN001
    """The one-time token is checked before the form's content: a forged post learns nothing of it."""
    client = http(started)
    _, path = link(started, consultancy(), when="2015-07-01T10:00")
    form = form_ending(client.get(path).text, f"{ARRAS}/livrable/methode/remise")
    before = snapshot(started)
    no_token = {name: value for name, value in form.hidden.items() if name != "jeton"}
    refused(client.post(form.action, data=no_token), 400, "formulaire")
    refused(client.post(form.action, data=form.hidden), 422, "Choisissez le fichier du livrable")
    unchanged(started, before)
