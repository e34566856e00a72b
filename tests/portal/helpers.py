"""Reading the portal's pages as a browser would: its forms, their hidden fields."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from html.parser import HTMLParser

from sqlmodel import func, select

from models.db import session_scope
from models.tables import AuditEntry, Notice


@dataclass
class Form:
    action: str
    method: str
    hidden: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._current: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._current = Form(values.get("action", ""), values.get("method", "get"))
            self.forms.append(self._current)
        elif tag == "input" and values.get("type") == "hidden" and self._current is not None:
            self._current.hidden[values["name"]] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def forms(html: str) -> list[Form]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def form_ending(html: str, suffix: str) -> Form:
    """The page's only form whose action ends with `suffix`."""
    found = [f for f in forms(html) if f.action.endswith(suffix)]
    assert len(found) == 1, [f.action for f in forms(html)]
    return found[0]


def count(url: str, model: type, *where: object) -> int:
    with session_scope(url) as session:
        return session.exec(select(func.count()).select_from(model).where(*where)).one()


def audits(url: str, action: str) -> list[AuditEntry]:
    with session_scope(url) as session:
        return list(session.exec(select(AuditEntry).where(AuditEntry.action == action)).all())


def notices(url: str, kind: str) -> list[Notice]:
    with session_scope(url) as session:
        return list(session.exec(select(Notice).where(Notice.kind == kind)).all())


PDF = b"%PDF-1.4\n% livrable\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
HEADERS = {"content-security-policy", "x-content-type-options", "referrer-policy"}


def sign_form(page: str) -> dict[str, str]:
    form = form_ending(page, "/charte")
    return {**form.hidden, "signataire": "Frédéric Leturque", "qualite": "Président", "lu": "oui"}


def assert_french_refusal(response, status: int, words: str) -> None:  # noqa: ANN001
    assert response.status_code == status, response.text
    assert '<html lang="fr">' in response.text and words in html.unescape(response.text)
    assert "Traceback" not in response.text
    assert HEADERS <= set(response.headers)
    assert "script-src" not in response.headers["content-security-policy"]  # default-src 'none': no script at all
