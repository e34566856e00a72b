"""The draft's page keeps every field of the form (a partner's contact too): a lead that applied by
file saves its draft online untouched and deposits the very same application; the draft downloaded
as the filled annex (.docx, .odt) reads back as the saved draft."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from sqlmodel import select

from documents.annex import read_annex
from models import drafts
from models.db import session_scope
from models.tables import ApplicationVersion
from tests.conftest import EXAMPLES, at, ctx_of, open_call
from tests.draft_data import ARRAS
from tests.portal.conftest import Clock
from tests.portal.helpers import assert_french_refusal, form_ending
from tests.portal.test_applicant import mailed_path, start
from transitions.intake import read_application, submit_form
from transitions.portal.application_form import explain


class _Posted(HTMLParser):
    """What a browser posts from one form of a page, untouched: text inputs, ticked boxes, each
    select's chosen option (the first when none is), textareas."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.fields = action, False, []
        self._select: tuple[str, list[tuple[str, bool]]] | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action", "").endswith(self.action)
        if not self.inside or "disabled" in a:
            return
        if tag == "input" and a.get("type") in ("text", "email", "hidden"):
            self.fields.append((a["name"], a.get("value", "")))
        elif tag == "input" and a.get("type") == "checkbox" and "checked" in a:
            self.fields.append((a["name"], a.get("value", "on")))
        elif tag == "select":
            self._select = (a["name"], [])
        elif tag == "option" and self._select is not None:
            self._select[1].append((a.get("value", ""), "selected" in a))
        elif tag == "textarea":
            self._textarea, self._text = a["name"], ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            name, options = self._select
            self.fields.append((name, next((v for v, chosen in options if chosen), options[0][0])))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.fields.append((self._textarea, self._text.removeprefix("\n")))
            self._textarea = None


def posted(page: str, action: str) -> list[tuple[str, str]]:
    parser = _Posted(action)
    parser.feed(page)
    return parser.fields


def as_data(fields: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Fields as the test client posts them (a name may repeat: the themes)."""
    data: dict[str, list[str]] = {}
    for name, value in fields:
        data.setdefault(name, []).append(value)
    return data


@pytest.fixture
def applied_by_file(loaded: str, clock: Clock) -> str:
    """The CU d'Arras applied by file (partners with contacts, files described), then opens a draft."""
    open_call(loaded)
    submit_form(loaded, read_application(EXAMPLES / "candidature-cu-arras.yaml"), at("2015-04-19T10:00"), None)
    clock.now = at("2015-04-20T10:00")
    return loaded


def _versions(url: str) -> list[dict[str, Any]]:
    with session_scope(url) as session:
        return [v.payload for v in session.exec(select(ApplicationVersion).order_by(ApplicationVersion.version)).all()]


def test_saving_untouched_then_depositing_keeps_every_field(applied_by_file: str, client_for) -> None:  # noqa: ANN001
    client = client_for(applied_by_file)
    start(client, email="quelquun@example.org")
    path = mailed_path(applied_by_file, "claire.dufour@cu-arras.example.org")
    page = client.get(path).text
    assert 'value="l.vasseur@ville-arras.example.org"' in page  # a partner's contact is on the page
    saved = client.post(path + "/enregistrer", data=as_data(posted(page, "/enregistrer") + [("action", "enregistrer")]))
    assert saved.status_code == 303
    before = _versions(applied_by_file)
    with session_scope(applied_by_file) as session:
        ctx = ctx_of(session)
        checked = drafts.verify(ctx, drafts.find_draft(ctx, ARRAS), explain)
    assert checked.ok and checked.form is not None
    assert checked.form.model_dump(mode="json") == before[0]  # every field, contacts and descriptions too
    answer = client.post(path + "/deposer", data=form_ending(client.get(path).text, "/deposer").hidden)
    assert answer.status_code == 303 and "fait=deja-depose" in answer.headers["location"]
    assert _versions(applied_by_file) == before


def test_a_changed_contact_is_a_new_version_holding_it(applied_by_file: str, client_for) -> None:  # noqa: ANN001
    client = client_for(applied_by_file)
    start(client)
    path = mailed_path(applied_by_file, "claire.dufour@cu-arras.example.org")
    fields = [(name, "Lucie Vasseur" if name == "partenaires-0-contact-nom" else value)
              for name, value in posted(client.get(path).text, "/enregistrer")]
    assert client.post(path + "/enregistrer", data=as_data(fields + [("action", "enregistrer")])).status_code == 303
    answer = client.post(path + "/deposer", data=form_ending(client.get(path).text, "/deposer").hidden)
    assert "fait=depose" in answer.headers["location"]
    first, second = _versions(applied_by_file)
    assert second["partenaires"][0]["contact"]["nom"] == "Lucie Vasseur"
    second["partenaires"][0]["contact"]["nom"] = first["partenaires"][0]["contact"]["nom"]
    assert second == first


@pytest.mark.parametrize("kind", ["docx", "odt"])
def test_the_draft_downloads_as_the_filled_annex(applied_by_file: str, client_for, kind: str) -> None:  # noqa: ANN001
    client = client_for(applied_by_file)
    start(client)
    path = mailed_path(applied_by_file, "claire.dufour@cu-arras.example.org")
    fields = [(name, "Des besoins reformulés en ligne." if name == "besoins" else value)
              for name, value in posted(client.get(path).text, "/enregistrer")]
    client.post(path + "/enregistrer", data=as_data(fields + [("action", "enregistrer")]))
    answer = client.get(f"{path}/brouillon.{kind}")
    assert answer.status_code == 200 and f"brouillon-{ARRAS}.{kind}" in answer.headers["content-disposition"]
    with session_scope(applied_by_file) as session:
        ctx = ctx_of(session)
        saved = drafts.find_draft(ctx, ARRAS).payload
    read = read_annex(f"brouillon.{kind}", answer.content)
    assert read["besoins"] == "Des besoins reformulés en ligne."
    assert {k: v for k, v in read.items() if k not in ("formulaire", "documents_complementaires")} == saved
    other = path.replace(ARRAS, "200040947")
    assert_french_refusal(client.get(f"{other}/brouillon.{kind}"), 403, "ne donne pas accès à cette candidature")
