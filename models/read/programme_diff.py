"""The preview of a change of a running programme, as pages and the command show it: the
differences between the programme's future unchanged and changed (`flows.programme_preview`),
grouped by person and by date, and as JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from typing import Any, Literal

from models.clock import format_paris, paris
from models.programme_change import ChangePlan

Change = Literal["apparait", "disparait", "deplace"]
WHAT = {"avis": "Avis", "instant": "Instant planifié", "element": "Élément de l'année"}
CHANGES = {"apparait": "apparaît", "disparait": "disparaît", "deplace": "déplacé"}
PROGRAMME = "(programme)"
"""The heading of what concerns no one person: planned instants."""


@dataclass(frozen=True)
class Difference:
    """One thing that differs between the two futures (French words for `what` and `change`)."""

    what: Literal["avis", "instant", "element"]
    change: Change
    person: str
    kind: str
    subject: str
    before: datetime | None
    after: datetime | None
    cause: str
    uid: str | None = None
    sequence_before: int | None = None
    sequence_after: int | None = None

    @property
    def when(self) -> datetime:
        """The date it is filed under: its new instant, else its former one."""
        return self.after or self.before or datetime.min.replace(tzinfo=UTC)

    def as_json(self) -> dict[str, Any]:
        return {"quoi": self.what, "changement": self.change, "personne": self.person, "type": self.kind,
                "objet": self.subject, "avant": _iso(self.before), "apres": _iso(self.after), "cause": self.cause,
                "uid": self.uid, "sequence_avant": self.sequence_before, "sequence_apres": self.sequence_after}

    def line(self) -> str:
        """One French line: what, its change, from when to when, and why."""
        dates = " → ".join(format_paris(x) for x in (self.before, self.after) if x is not None)
        sequence = "" if self.uid is None else f" (UID {self.uid}, SEQUENCE {self.sequence_before} → "
        sequence += f"{self.sequence_after})" if sequence else ""
        return (f"{WHAT[self.what]} {CHANGES[self.change]} : {self.kind} {self.subject} {dates}{sequence}"
                + (f" [{self.cause}]" if self.cause else ""))


@dataclass
class Preview:
    """The preview of a change: the file's hash, the plan, the rules it breaks and the differences."""

    slug: str
    sha256: str
    version: int
    at: datetime
    plan: ChangePlan
    problems: list[str] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    future: list[tuple[str, str, datetime]] = field(default_factory=list)
    """Every notice of the changed future, from `at` on: (kind, recipient, planned time)."""


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def by_person(preview: Preview) -> list[tuple[str, list[Difference]]]:
    """The differences per person (planned instants under `PROGRAMME`), each in time order."""
    ordered = sorted(preview.differences, key=lambda d: (d.person or PROGRAMME, d.when))
    return [(person, list(rows)) for person, rows in groupby(ordered, key=lambda d: d.person or PROGRAMME)]


def by_date(preview: Preview) -> list[tuple[str, list[Difference]]]:
    """The differences per Paris day of their instant (the new one, else the former)."""
    ordered = sorted(preview.differences, key=lambda d: (d.when, d.person))
    return [(day, list(rows)) for day, rows in groupby(ordered, key=lambda d: paris(d.when).date().isoformat())]


def preview_json(preview: Preview) -> dict[str, Any]:
    """The preview as JSON (French keys): hash, version, instant, differences, refusals, problems."""
    return {"programme": preview.slug, "sha256": preview.sha256, "version": preview.version,
            "instant": preview.at.isoformat(), "problemes": preview.problems,
            "refus": [{"territoire": r.pilot, "type": r.kind, "cle": r.key, "titre": r.title, "motif": r.why,
                       "cause": r.cause} for r in preview.plan.refused],
            "differences": [d.as_json() for d in preview.differences],
            "avenir": [[kind, person, planned.isoformat()] for kind, person, planned in preview.future]}
