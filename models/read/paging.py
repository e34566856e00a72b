"""Pages of a long list: which slice of it a page shows, and how the page tells where it stands
(« page 2 sur 40 »). A page costs what it shows, whatever the length of the list: a count and
one slice (`page_of`), the lines of a long list found by a name or a SIREN (`matching`), and a page
of the programme's pilots for the lists made of one block per pilot (`pilot_page`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, or_, select

from models.context import ProgrammeContext
from models.tables import Application, Pilot
from models.text import visible

PAGE_SIZE = 25
"""Lines on one page of a list a person reads (the juror's applications, the consultancy's pilots)."""


@dataclass(frozen=True)
class Pager:
    """Page `number` (from 1) of `pages`, over `total` lines, `size` a page."""

    number: int
    pages: int
    total: int
    size: int = PAGE_SIZE

    @classmethod
    def of(cls, total: int, asked: int | None, size: int = PAGE_SIZE) -> Pager:
        """The page `asked` of a list of `total` lines (None, or beyond the last: the nearest page)."""
        pages = max(1, -(-total // size))
        return cls(min(max(asked or 1, 1), pages), pages, total, size)

    @property
    def offset(self) -> int:
        """Lines before this page's first (SQL OFFSET)."""
        return (self.number - 1) * self.size

    @property
    def previous(self) -> int | None:
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        return self.number + 1 if self.number < self.pages else None

    @property
    def first_line(self) -> int:
        """The position (from 1) of the page's first line in the list (0 for an empty list)."""
        return min(self.offset + 1, self.total)

    @property
    def last_line(self) -> int:
        return min(self.offset + self.size, self.total)


Line = TypeVar("Line")


@dataclass(frozen=True)
class Listing(Generic[Line]):
    """A page of a list: its `lines`, where it stands (`pager`) and the search it answers (`search`,
    empty: none)."""

    lines: tuple[Line, ...]
    pager: Pager
    search: str = ""


SEARCH_MAX = 80
"""Characters of a search kept (a name, a SIREN or its first digits)."""


def search_text(asked: str | None) -> str:
    """What a person typed to search a list, on one line, bounded (empty: no search)."""
    return " ".join(visible(asked or "").split())[:SEARCH_MAX]


def matching(search: str, name: Any, siren: Any) -> ColumnElement[bool] | None:
    """Lines whose `name` holds `search` (case aside) or whose `siren` starts with it (digits and
    spaces only, « 200 033 579 »); None for an empty search. `%` and `_` are matched as themselves."""
    if not search:
        return None
    digits = search.replace(" ", "")
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    found = col(name).ilike(f"%{escaped}%", escape="\\")
    return or_(found, col(siren).startswith(digits)) if digits.isdigit() else found


def page_of(session: Session, statement: Any, asked: int | None, size: int = PAGE_SIZE) -> tuple[Pager, list[Any]]:
    """Page `asked` of an ordered SELECT (out of range: the nearest): its pager, by one count, and its
    rows, by one slice (OFFSET/LIMIT)."""
    total = session.exec(select(func.count()).select_from(statement.order_by(None).subquery())).one()
    pager = Pager.of(total, asked, size)
    return pager, list(session.exec(statement.offset(pager.offset).limit(pager.size)).all())


def pilot_page(ctx: ProgrammeContext, asked: int | None, search: str = "", *, where: Sequence[Any] = (),
               size: int = PAGE_SIZE) -> tuple[Pager, list[Pilot]]:
    """Page `asked` of the programme's pilots meeting `where`, by rank, those whose name holds
    `search` or whose lead's SIREN starts with it only."""
    statement = (select(Pilot).join(Application, col(Application.id) == Pilot.application_id)
                 .where(Pilot.programme_id == ctx.programme_id, *where))
    if (found := matching(search, Pilot.name, Application.lead_siren)) is not None:
        statement = statement.where(found)
    return page_of(ctx.session, statement.order_by(col(Pilot.rank), col(Pilot.id)), asked, size)
