"""The single-use key a staff member's invitation or reset carries, read from the message delivery
builds (`notifications.message.single_message`): the outbox stores no key (issue 24, item 5); and
where a value is held in the database (`columns_holding`)."""

from __future__ import annotations

import json
import re

from sqlalchemy import inspect, text
from sqlmodel import col, select

from models.db import get_engine, session_scope
from models.links import LinkSettings
from models.tables import Notice
from notifications.message import single_message
from tests.portal.conftest import SECRET

KEY = re.compile(r"(\S+/equipe/(?:invitation|reinitialisation)/([A-Za-z0-9_-]+))")


def mailed_link(url: str, kind: str = "invitation_equipe", email: str | None = None, secret: str = SECRET) -> str:
    """The link in the latest notice of `kind` (to `email`, if given) as it leaves, its key derived
    under `secret` (the portal's)."""
    with session_scope(url) as session:
        query = select(Notice).where(Notice.kind == kind).order_by(col(Notice.id).desc())
        notice = session.exec(query if email is None else query.where(Notice.recipient_email == email)).first()
        assert notice is not None, kind
        text = single_message(notice, settings=LinkSettings(secret, "http://inutile.invalid", 1)).text
    found = KEY.search(text)
    assert found, text
    return found.group(1)


def mailed_key(url: str, kind: str = "invitation_equipe", email: str | None = None, secret: str = SECRET) -> str:
    """The key of `mailed_link`."""
    return mailed_link(url, kind, email, secret).rsplit("/", 1)[1]


def columns_holding(url: str, needle: str) -> list[str]:
    """Every `table.column` of the database (every table it holds, as the database lists them) with a
    value containing `needle` (texts, JSON, bytes)."""
    found = []
    with get_engine(url).connect() as connection:
        for table in inspect(connection).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')).mappings():
                for column, value in row.items():
                    if isinstance(value, bytes):
                        shown = value.decode("utf-8", "replace")
                    elif isinstance(value, dict | list):
                        shown = json.dumps(value, ensure_ascii=False)
                    else:
                        shown = str(value)
                    if needle in shown:
                        found.append(f"{table}.{column}")
    return found
