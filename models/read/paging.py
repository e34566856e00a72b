"""Pages of a long list: which slice of it a page shows, and how the page tells where it stands
(« page 2 sur 40 »). A page costs what it shows, whatever the length of the list."""

from __future__ import annotations

from dataclasses import dataclass

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
