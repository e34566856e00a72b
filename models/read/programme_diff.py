"""The preview of a change of a running programme, as pages and the command show it: the
differences between the programme's future unchanged and changed (`flows.programme_preview`),
grouped by person and by date, as JSON, and read back from the JSON a kept preview stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import groupby
from typing import Any, Literal

from models.clock import format_paris, paris
from models.notices import LABELS, NoticeKind
from models.programme_change import WORDS, ChangePlan, Refusal
from models.stages import LABELS as STAGE_LABELS
from models.stages import StageName

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
    id: int | None = None
    """The `ProgrammePreview` row it is kept as (None: not stored)."""


def kind_label(difference: Difference) -> str:
    """The French name of a difference's kind: a notice kind's label (`models.notices.LABELS`), an
    item's word (« Session »), a planned instant's stage (`models.stages.LABELS`: « phases et
    jalons », not `phases_jalons`); a code none of them knows, as it is."""
    if difference.what == "avis" and difference.kind in NOTICE_KINDS:
        return LABELS[NoticeKind(difference.kind)]
    if difference.what == "element" and difference.kind in WORDS:
        return WORDS[difference.kind]
    if difference.what == "instant" and difference.kind in STAGE_NAMES:
        return STAGE_LABELS[StageName(difference.kind)]
    return difference.kind


NOTICE_KINDS = frozenset(kind.value for kind in NoticeKind)
STAGE_NAMES = frozenset(stage.value for stage in StageName)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _instant(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def preview_from_json(data: dict[str, Any], *, id: int | None = None) -> Preview:  # noqa: A002
    """A preview as `preview_json` wrote it (a kept `ProgrammePreview.result`), read back for its
    pages. The plan's moves are not in the JSON: they are among the differences (`element`), so
    `plan.moves` is empty; a refusal's pilot is known by name only (`pilot_id` 0). KeyError or
    ValueError on a document `preview_json` did not write."""
    at = datetime.fromisoformat(data["instant"])
    refused = [Refusal(pilot_id=0, pilot=r["territoire"], kind=r["type"], key=r["cle"], title=r["titre"],
                       why=r["motif"], cause=r["cause"]) for r in data["refus"]]
    differences = [Difference(what=d["quoi"], change=d["changement"], person=d["personne"], kind=d["type"],
                              subject=d["objet"], before=_instant(d["avant"]), after=_instant(d["apres"]),
                              cause=d["cause"], uid=d["uid"], sequence_before=d["sequence_avant"],
                              sequence_after=d["sequence_apres"]) for d in data["differences"]]
    future = [(kind, person, datetime.fromisoformat(planned)) for kind, person, planned in data["avenir"]]
    return Preview(data["programme"], data["sha256"], int(data["version"]), at, ChangePlan(at, refused=refused),
                   list(data["problemes"]), differences, future, id)


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
