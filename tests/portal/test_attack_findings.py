"""Defects found by attacking the portal over real HTTP (uvicorn on loopback) as a hostile
outsider or a hostile bearer of a valid link. Each test is a reproduction: it fails while the
defect is there. Every refusal must be a French page with the right status, no traceback, and
leave the database exactly as it was."""

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
from tests.conftest import at, ctx_of
from tests.portal.conftest import ARRAS, Clock, consultancy, juror, link, territory
from tests.portal.helpers import form_ending, start_arras

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
        client = httpx.Client(base_url=serve(url), follow_redirects=False, timeout=60,
                              headers={"connection": "close"})
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def started(selected: str, clock: Clock) -> str:
    start_arras(selected)
    clock.now = at("2015-07-02T10:00")
    return selected


@pytest.fixture
def scoring(closed: str, clock: Clock) -> str:
    clock.now = at("2015-06-01T10:00")
    return closed


# --- 0. A juror taken off the jury keeps every application's attachments --------------------------
# transitions/portal/app.py piece(): only `bearer.role == JUROR` is checked, not that the bearer is
# still a member of the jury (_juror_name, which jury_page, save_scores, conflict and submit call).
# Once the Cerdd replaces a juror (programme re-installed with another member), the old link gets
# 403 on the jury page but still downloads every admissible application's files by number.

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


# --- 1. Control characters in multi-line fields: a 500 instead of a French 422 ----------------------
# models/text.multi_line raises a bare ValueError; models/participation.answer_invitation,
# request_due_date and declare_conflict call it without turning it into InvalidInput, so the
# portal (and the CLI: `session answer … --people`) answer « Erreur interne » (500 / exit 70).

@pytest.mark.parametrize("people", ["Claire\x00Dufour", "Claire \u202eDufour", "Claire\x1b[31mDufour"],
                         ids=["nul", "rtl", "echappement"])
def test_control_characters_in_the_participants_are_a_french_422(started: str, http, people: str) -> None:  # noqa: ANN001
    client = http(started)
    _, path = link(started, territory(), when="2015-07-01T10:00")
    form = form_ending(client.get(path).text, "/session/formation-1")
    before = snapshot(started)
    answer = client.post(form.action, data={**form.hidden, "presence": "oui", "participants": people})
    refused(answer, 422, "non permis")
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
    form = form_ending(client.get(path).text, f"/jury/conflit/{receipt}")
    before = snapshot(scoring)
    refused(client.post(form.action, data={**form.hidden, "motif": "Élu \u202ede la CU"}), 422, "non permis")
    unchanged(scoring, before)


# --- 2. Scores that str.isdigit() accepts but int() cannot read: a 500 -------------------------------
# transitions/portal/app.py save_scores: `value.isdigit() and 0 <= int(value) <= scale_max`;
# « ² » is a digit for isdigit() but int("²") raises ValueError, and 4 301 digits or more exceed
# Python's int-conversion limit (ValueError too).

@pytest.mark.parametrize("digits", [1, 5000], ids=["exposant-2", "5000-chiffres"])
def test_a_score_that_is_not_a_plain_number_is_refused_in_french(scoring: str, http, digits: int) -> None:  # noqa: ANN001
    value = "²" if digits == 1 else "9" * digits
    client = http(scoring)
    _, path = link(scoring, juror(), when="2015-05-20T10:00")
    with session_scope(scoring) as session:
        arras = find_application(ctx_of(session), ARRAS)
    form = form_ending(client.get(path).text, "/jury/notes")
    before = snapshot(scoring)
    refused(client.post(form.action, data={**form.hidden, f"note-{arras.id}-portage": value}), 422, "hors barème")
    unchanged(scoring, before)


# --- 3. Identifiers in the path beyond SQLite's INTEGER: a 500 ---------------------------------------
# transitions/portal/app.py piece() and decide(): the `int` path parameter goes straight to
# session.get(); SQLite raises OverflowError (« Python int too large to convert to SQLite INTEGER »).

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


# --- 4. Invalid UTF-8 is silently replaced, then signed ---------------------------------------------
# Starlette decodes form fields with errors="replace" (urlencoded) or falls back to latin-1
# (multipart); transitions/portal/app.py _field() and models/text.require_line accept the result,
# so the charter is recorded as signed by « �� » (or by mojibake).

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


# --- 5. A malformed identifier in the path is « Le formulaire est incomplet » (422) -----------------
# transitions/portal/app.py invalid(): every RequestValidationError is reported as an incomplete
# form, including a path segment that is not a number (no form at all): it should be a 404.

def test_a_document_number_that_is_not_a_number_is_a_404(scoring: str, http) -> None:  # noqa: ANN001
    client = http(scoring)
    _, path = link(scoring, juror(), when="2015-05-20T10:00")
    refused(client.get(f"{path}/piece/abc"), 404, "n'existe pas")


# --- 6. An oversized field gets « La requête est refusée. » (400), naming nothing -------------------
# Starlette refuses a form part over 1 MiB with HTTPException(400); http_error() turns it into a
# generic sentence. The field is too long: 413 or 422 naming it, as _field() does under 1 MiB.

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


# --- 7. An upload is examined before its link ------------------------------------------------------
# transitions/portal/app.py hand_in(): the form (up to 10 MiB) is parsed, the file read and « no
# file » refused (422) before portal.acting() checks the link, so a tampered or revoked link gets
# « Choisissez le fichier » instead of 403 / 410.

def test_a_tampered_link_without_a_file_is_refused_as_a_bad_link(started: str, http) -> None:  # noqa: ANN001
    client = http(started)
    _, path = link(started, consultancy(), when="2015-07-01T10:00")
    token = path.split("/")[2]
    bad = path.replace(token, token[:-2] + ("AA" if not token.endswith("AA") else "BB"))
    answer = client.post(f"{bad}/{ARRAS}/livrable/methode/remise", data={"jeton": "x"},
                         files={"autre": ("a.txt", b"a", "text/plain")})
    refused(answer, 403, "pas valide")


# --- 8. HEAD is refused (405) on every page --------------------------------------------------------
# FastAPI routes declared with @app.get do not answer HEAD; RFC 9110 §9.3.2 expects a server that
# answers GET to answer HEAD (monitoring probes and mail link scanners use it).

def test_head_is_answered_like_get(selected: str, http) -> None:  # noqa: ANN001
    client = http(selected)
    _, path = link(selected, territory())
    health = client.head("/sante")
    expect(health.status_code == 200, f"HEAD /sante : HTTP {health.status_code}")
    page = client.head(path)
    expect(page.status_code == 200 and HEADERS <= set(page.headers), f"HEAD sur la page : HTTP {page.status_code}")


# --- 9. A conflict's reason over 2 000 characters is silently cut ----------------------------------
# models/participation.declare_conflict: `multi_line(reason).strip()[:2000]` stores a truncated
# reason and says « enregistré »; every other limit is refused with a French message.

def test_a_conflict_reason_over_the_limit_is_refused_not_truncated(scoring: str, http) -> None:  # noqa: ANN001
    client = http(scoring)
    _, path = link(scoring, juror(), when="2015-05-20T10:00")
    with session_scope(scoring) as session:
        receipt = find_application(ctx_of(session), ARRAS).receipt_number
    form = form_ending(client.get(path).text, f"/jury/conflit/{receipt}")
    before = snapshot(scoring)
    refused(client.post(form.action, data={**form.hidden, "motif": "é" * 2500}), 422, "")
    unchanged(scoring, before)


# --- 10. A second, different decision on a due-date request is dropped but reported as recorded ------
# transitions/portal/app.py decide() ignores decide_due_date()'s False (« already decided »): the
# Cerdd's second tab refuses a request the first tab granted, nothing changes, and the page says
# « Votre décision est enregistrée ». It should say the request was already decided (409).

def test_a_second_decision_from_another_tab_is_not_reported_as_recorded(started: str, http) -> None:  # noqa: ANN001
    from models.tables import DueDateRequest

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
        expect(request.status == "accordee", request.status)
    refused(answer, 409, "déjà")
    unchanged(started, before)
